package pagination

import (
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

// Option configures a pagination subprotocol. Options never fail (so that
// constructors can be used inline): out-of-range values are clamped, as
// each Option says.
type Option func(*config)

// config is what the Options set.
type config struct {
	perPage     int
	maxScan     int
	maxScanTime time.Duration
	slots       *ScanSlots
	now         func() time.Time // the scan budget's clock; tests step it
	scorer      PeerScorer
	onAccepted  func(provider peer.ID, orders []*zeroex.SignedOrder)
}

func newConfig(opts []Option) config {
	c := config{perPage: DefaultPerPage, maxScan: DefaultMaxScan, maxScanTime: DefaultMaxScanTime,
		scorer: noScorer{}, now: time.Now}
	for _, opt := range opts {
		opt(&c)
	}
	if c.slots == nil {
		c.slots = processScanSlots
	}
	c.maxScan = max(c.maxScan, c.perPage)
	return c
}

// WithPerPage sets how many orders a provider puts in one response: default
// DefaultPerPage; values below 1 mean the default, values above MaxPerPage
// mean MaxPerPage.
func WithPerPage(n int) Option {
	return func(c *config) {
		switch {
		case n < 1:
			c.perPage = DefaultPerPage
		case n > MaxPerPage:
			c.perPage = MaxPerPage
		default:
			c.perPage = n
		}
	}
}

// WithMaxScan bounds how many stored orders a provider scans for one
// request (default DefaultMaxScan; never less than the page size). When the
// bound is reached with some matches, the provider answers with them; with
// none, it gives up on the request (ErrScanLimit) rather than send an empty
// page, which would tell the requester that nothing is left.
func WithMaxScan(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxScan = n
		}
	}
}

// WithMaxScanTime bounds how long a provider scans the store for one
// request (default DefaultMaxScanTime; 0 or less means the default). The
// scan looks at its clock and at the request's context every few dozen
// orders. When the time is up with some matches, the provider answers with
// them (the response says where the scan stopped, so the requester goes on
// from there); with none, it gives up on the request (ErrScanLimit). A
// scan with a costly filter may first wait as long again for one of the
// ScanSlots (see WithScanSlots).
func WithMaxScanTime(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxScanTime = d
		}
	}
}

// WithScanSlots caps the scans with a costly filter (one that runs the
// schema engine) that run at once with slots. By default every Pager of the
// process shares one ScanSlots of DefaultScanSlots, so a node's v0 and v1
// subprotocols are capped together; pass a ScanSlots of your own to cap a
// group of Pagers apart from the rest of the process.
func WithScanSlots(slots *ScanSlots) Option {
	return func(c *config) { c.slots = slots }
}

// WithPeerScorer makes the requester pipeline move providers' scores; see
// the package documentation. A node passes its ordersync.Node. nil means no
// scoring (the default).
func WithPeerScorer(s PeerScorer) Option {
	return func(c *config) {
		if s == nil {
			s = noScorer{}
		}
		c.scorer = s
	}
}

// WithOnAccepted calls fn after every page with the orders of that page
// that passed validation and were handed to the store (some may have been
// stored already), so that a node can pass them on. fn runs on the sync's
// goroutine, so it should be quick, and must not modify the orders.
func WithOnAccepted(fn func(provider peer.ID, orders []*zeroex.SignedOrder)) Option {
	return func(c *config) { c.onAccepted = fn }
}
