package paging

import (
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
)

// Pager is the order-handling half of a pagination subprotocol, the same
// for every Codec: Serve answers requests from a store as a provider,
// Accept takes in responses as a requester. Subprotocol is a Pager and a
// Codec; a subprotocol that pages some other way (package reconcile, for
// the orders it fetches and pages) uses a Pager of its own, so that its
// orders are checked and stored as the pagination ones are. It is safe for
// concurrent use.
//
// A Pager remembers, per provider, the cursor of the last request it
// produced, so that it can tell whether a response moves forward. One Pager
// therefore serves one requester node.
type Pager struct {
	store   orderstore.Store
	filter  *orderfilter.Filter
	cfg     config
	cursors cursorTable
	tracer  atomic.Pointer[tracerBox]
	// validation is the Service's checks (UseValidation); none until set.
	validation atomic.Pointer[validationBox]
}

// tracerBox holds a MetricsTracer for atomic.Pointer.
type tracerBox struct{ ordersync.MetricsTracer }

// NewPager returns a Pager over store. filter is the requester's own:
// received orders must match it. nil keeps every valid order. NewPager
// panics if an option is invalid (see CheckOptions).
func NewPager(store orderstore.Store, filter *orderfilter.Filter, opts ...Option) *Pager {
	cfg, err := newConfig(opts)
	if err != nil {
		panic(err)
	}
	return &Pager{
		store:   store,
		filter:  filter,
		cfg:     cfg,
		cursors: cursorTable{byPeer: make(map[peerKey]cursorEntry)},
	}
}

// ReportMetricsTo makes the requester pipeline report, once per page, the
// orders it rejected and why, and those new to the store, to t (see
// ordersync.MetricsReporter: the Service calls it with its own tracer).
// Until then, and with nil, it reports to none.
func (p *Pager) ReportMetricsTo(t ordersync.MetricsTracer) {
	if t == nil {
		t = ordersync.NoopMetricsTracer{}
	}
	p.tracer.Store(&tracerBox{t})
}

// metrics is the tracer to report to.
func (p *Pager) metrics() ordersync.MetricsTracer {
	if b := p.tracer.Load(); b != nil {
		return b.MetricsTracer
	}
	return ordersync.NoopMetricsTracer{}
}

// ResetSync forgets the cursor of provider's sync: the requester starts
// over from the beginning with it (see ordersync.SyncResetter).
func (p *Pager) ResetSync(provider peer.ID) { p.cursors.forget(provider) }

// Filter is the requester's filter the Pager was made with (nil keeps
// every valid order).
func (p *Pager) Filter() *orderfilter.Filter { return p.filter }
