package pagination

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/zeroex"
)

// This file is the subprotocols' options, scorer and errors. The engine
// they configure (the Pager: serving pages, taking them in, lanes, scan
// slots) is subprotocols/internal/paging, shared with reconcile and no
// part of the API.

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
// reports it for settings that come from users. Options are made only by
// the With functions here.
type Option = paging.Option

// CheckOptions reports the first invalid option, naming it, so that a
// caller taking settings from users can refuse them before New, which
// panics on them.
func CheckOptions(opts ...Option) error { return paging.CheckOptions(opts...) }

// WithPerPage sets how many orders a provider puts in one response, from
// 1 to MaxPerPage. Default DefaultPerPage.
func WithPerPage(n int) Option { return paging.WithPerPage(n) }

// WithMaxScan is a provider's scan budget for one request: it looks at
// no more than orders stored orders (default DefaultMaxScan; at least a
// page) for no longer than d (default DefaultMaxScanTime; positive),
// whichever comes first. When the budget runs out with some matches, the
// provider answers with them (the response says where the scan stopped,
// so the requester goes on from there); with none, it gives up on the
// request (ErrScanLimit) rather than send an empty page, which would tell
// the requester that nothing is left. A scan with a costly filter (one
// that runs the schema engine) first takes one of the process's scan
// slots, shared by every subprotocol of the process (GOMAXPROCS/2, at
// least one), and waits at most d for it. reconcile.WithMaxScan is the
// same budget for reconcile's snapshots.
func WithMaxScan(orders int, d time.Duration) Option { return paging.WithMaxScan(orders, d) }

// WithPeerScorer makes the requester pipeline move providers' scores; see
// the package documentation. A node passes its ordersync.Node. nil means no
// scoring (the default).
func WithPeerScorer(s PeerScorer) Option { return paging.WithPeerScorer(s) }

// WithOnAccepted calls fn after every page with the orders of that page
// that passed every check (the library's, expiry and the node's
// Validator) and that the store holds after AddOrders: new ones and ones
// it held already, so the same order may come again in later pages and
// syncs. It is not a new-order notification: for that, subscribe to the
// store's change feed (orderstore.Subscriber), which sees every order
// stored once, whoever stored it. fn runs on the sync's goroutine, so it
// should be quick, and must not modify the orders.
func WithOnAccepted(fn func(provider peer.ID, orders []*zeroex.SignedOrder)) Option {
	return paging.WithOnAccepted(fn)
}

// PeerScorer moves a peer's score under a tag (the tags are package
// peerscore's OrderDoesNotMatchFilter, InvalidOrderSignature and
// InvalidOrder). ordersync.Node satisfies it, so a node passes itself.
type PeerScorer interface {
	// AddPeerScore adds diff to the score a peer has under tag.
	AddPeerScore(id peer.ID, tag string, diff int)
	// SetPeerScore sets the score a peer has under tag.
	SetPeerScore(id peer.ID, tag string, val int)
}

// The errors of the provider's scan and the requester's pipeline, wrapped
// in what Serve and HandleOrderSyncResponse return.
var (
	// ErrScanLimit: the provider gave up on a request before finding a
	// matching order, within its scan budget (WithMaxScan) or while
	// waiting for a scan slot.
	ErrScanLimit = paging.ErrScanLimit
	// ErrCursorStalled: a response does not move the requester's cursor
	// on, so that asking again would ask for the same page.
	ErrCursorStalled = paging.ErrCursorStalled
	// ErrEmptyIncompletePage: a response has no orders but does not say
	// it is complete.
	ErrEmptyIncompletePage = paging.ErrEmptyIncompletePage
)
