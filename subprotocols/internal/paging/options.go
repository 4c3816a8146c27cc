package paging

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/zeroex"
)

// Defaults and bounds of the Options.
const (
	// DefaultPerPage is how many orders a provider answers per page, as
	// existing nodes do.
	DefaultPerPage = 500
	// MaxPerPage is the largest page WithPerPage allows: a page is one
	// message, and peers bound message sizes.
	MaxPerPage = 5000
	// DefaultMaxScan bounds how many stored orders a provider looks at for
	// one request when the request's filter rejects most of them.
	DefaultMaxScan = 200 * DefaultPerPage
	// DefaultMaxScanTime bounds how long a provider scans for one request:
	// a filter at orderfilter's evaluation budget costs about 230 µs an
	// order, so DefaultMaxScan orders would take 24 s of CPU. Honest
	// custom filters (12-25 µs an order) scan 40 000 orders or more in it.
	DefaultMaxScanTime = time.Second
)

// Option configures a pagination subprotocol. As the root package's
// Options do, an Option refuses a value out of its range with an error
// naming it: New panics on it (a programming error), and CheckOptions
// reports it for settings that come from users.
type Option func(*config) error

// config is what the Options set.
type config struct {
	perPage     int
	maxScan     int
	maxScanTime time.Duration
	slots       *ScanSlots
	now         func() time.Time // the scan budget's clock; tests step it
	scorer      PeerScorer
	onAccepted  func(provider peer.ID, orders []*zeroex.SignedOrder)
	companion   bool // a companion protocol's fetches: not a sync's (AsCompanion)
	scanSet     bool // WithMaxScan was given
}

// CheckOptions reports the first invalid option, naming it, so that a
// caller taking settings from users can refuse them before New, which
// panics on them.
func CheckOptions(opts ...Option) error {
	_, err := newConfig(opts)
	return err
}

func newConfig(opts []Option) (config, error) {
	c := config{perPage: DefaultPerPage, maxScan: DefaultMaxScan, maxScanTime: DefaultMaxScanTime,
		scorer: noScorer{}, now: time.Now}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return c, err
		}
	}
	if c.slots == nil {
		c.slots = processScanSlots
	}
	if c.maxScan < c.perPage {
		return c, fmt.Errorf("pagination: max scan %d orders: less than a page (%d)", c.maxScan, c.perPage)
	}
	return c, nil
}

// WithPerPage sets how many orders a provider puts in one response, from
// 1 to MaxPerPage. Default DefaultPerPage.
func WithPerPage(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxPerPage {
			return fmt.Errorf("pagination: per page %d: must be from 1 to %d", n, MaxPerPage)
		}
		c.perPage = n
		return nil
	}
}

// WithMaxScan is a provider's scan budget for one request: it looks at
// no more than orders stored orders (default DefaultMaxScan; at least a
// page) for no longer than d (default DefaultMaxScanTime; positive),
// whichever comes first. The scan looks at its clock and at the request's
// context every few dozen orders. When the budget runs out with some
// matches, the provider answers with them (the response says where the
// scan stopped, so the requester goes on from there); with none, it gives
// up on the request (ErrScanLimit) rather than send an empty page, which
// would tell the requester that nothing is left. A scan with a costly
// filter may first wait as long as d again for one of the ScanSlots (see
// WithScanSlots). reconcile.WithMaxScan is the same budget for reconcile's
// snapshots.
func WithMaxScan(orders int, d time.Duration) Option {
	return func(c *config) error {
		if orders < 1 {
			return fmt.Errorf("pagination: max scan %d orders: must be positive", orders)
		}
		if d <= 0 {
			return fmt.Errorf("pagination: max scan time %v: must be positive", d)
		}
		c.maxScan, c.maxScanTime, c.scanSet = orders, d, true
		return nil
	}
}

// SetsScanBudget reports whether opts include WithMaxScan, so that a
// subprotocol with a scan budget of its own (reconcile) can refuse a
// second one passed through to its Pager.
func SetsScanBudget(opts ...Option) bool {
	c, _ := newConfig(opts)
	return c.scanSet
}

// WithScanSlots caps the scans with a costly filter (one that runs the
// schema engine) that run at once with slots. By default every Pager of the
// process shares one ScanSlots of DefaultScanSlots, so a node's v0 and v1
// subprotocols are capped together; pass a ScanSlots of your own to cap a
// group of Pagers apart from the rest of the process.
func WithScanSlots(slots *ScanSlots) Option {
	return func(c *config) error {
		if slots == nil {
			return fmt.Errorf("pagination: scan slots: must not be nil")
		}
		c.slots = slots
		return nil
	}
}

// WithPeerScorer makes the requester pipeline move providers' scores; see
// the package documentation. A node passes its ordersync.Node. nil means no
// scoring (the default).
func WithPeerScorer(s PeerScorer) Option {
	return func(c *config) error {
		if s == nil {
			s = noScorer{}
		}
		c.scorer = s
		return nil
	}
}

// WithOnAccepted calls fn after every page with the orders of that page
// that passed every check (the library's, expiry and the node's
// Validator) and that the store holds after AddOrders: new ones and ones
// it held already, so the same order may come again in later pages and
// syncs. It is not a new-order notification: for that, subscribe to the
// store's change feed (orderstore.Subscriber), which sees every order
// stored once, whoever stored it. fn runs on the sync's goroutine, so it
// should be quick, and must not modify the orders.
func WithOnAccepted(fn func(provider peer.ID, orders []*zeroex.SignedOrder)) Option {
	return func(c *config) error {
		c.onAccepted = fn
		return nil
	}
}

// AsCompanion marks the Pager's fetches as a companion protocol's (news's),
// not a sync's: the orders it stores are not reported to the Validation's
// OnSynced watchers.
func AsCompanion() Option {
	return func(c *config) error {
		c.companion = true
		return nil
	}
}
