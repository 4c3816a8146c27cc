package ordersync

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Stats are a Service's counters since New, for logs and dashboards. They
// are built from the events the Service reports to its MetricsTracer (see
// docs/metrics.md for the series each field matches).
type Stats struct {
	// BytesRead and BytesWritten count ordersync stream bytes, both roles.
	BytesRead    int64
	BytesWritten int64
	// RequestsServed counts responses written as a provider.
	RequestsServed int64
	// OrdersSent sums the orders of those responses.
	OrdersSent int64
	// StreamsRejected counts inbound streams turned away before they were
	// read: by the rate limits, the stream caps or the resource manager.
	StreamsRejected int64
	// StreamsCutOff counts inbound streams reset while being served for a
	// broken bound: a request too large, invalid or too late.
	StreamsCutOff int64
	// StreamsRejectedBy splits StreamsRejected and StreamsCutOff by
	// reason.
	StreamsRejectedBy map[StreamRejectReason]int64
	// SyncsCompleted counts syncs, as a requester, that delivered at least
	// one valid order and ended with the provider's complete response.
	SyncsCompleted int64
	// SyncsFailed counts every other sync.
	SyncsFailed int64
	// PagesReceived counts the responses a requester's subprotocols took
	// in.
	PagesReceived int64
	// OrdersReceived sums the orders of those responses, OrdersAccepted
	// those the subprotocols kept, and OrdersNew those of them that the
	// store did not hold yet.
	OrdersReceived int64
	OrdersAccepted int64
	OrdersNew      int64
	// OrdersRejected counts, by reason, the orders the subprotocols
	// dropped.
	OrdersRejected map[RejectReason]int64
	// Providers has one entry per provider peer synced with (the most
	// recent ones, if there were very many).
	Providers map[peer.ID]ProviderStats
}

// ProviderStats are a requester's counters for one provider.
type ProviderStats struct {
	// Subprotocol is the subprotocol the provider chose last in a sync.
	Subprotocol string
	// Pages counts the responses received in syncs.
	Pages int64
	// Orders sums the valid orders received in syncs, as the subprotocol
	// counted them.
	Orders int64
	// CompanionPages and CompanionOrders count the same outside syncs:
	// the answers, and the valid orders in them, that a companion
	// protocol fetching through the Service (package subprotocols/news)
	// took from the provider. They are not in Pages and Orders.
	CompanionPages  int64
	CompanionOrders int64
	// BytesReceived counts the bytes read from the provider.
	BytesReceived int64
	// LastError is the error of the last sync with the provider, "" if it
	// succeeded.
	LastError string
	// Err is that error itself, nil if the sync succeeded: errors.Is
	// tells, say, ErrNoOrdersFromPeer from a broken stream.
	Err error
}

// stats is the live form of Stats: a MetricsTracer that counts.
type stats struct {
	NoopMetricsTracer // the events Stats has no field for

	bytesRead, bytesWritten atomic.Int64
	requestsServed          atomic.Int64
	ordersSent              atomic.Int64
	syncsCompleted          atomic.Int64
	syncsFailed             atomic.Int64
	pages                   atomic.Int64
	ordersReceived          atomic.Int64
	ordersAccepted          atomic.Int64
	ordersNew               atomic.Int64

	// syncing names the Service's subprotocols: a page of any other name
	// is a companion protocol's. Set in New, read-only after.
	syncing map[string]bool

	mu              sync.Mutex
	providers       map[peer.ID]*ProviderStats
	streamsRejected map[StreamRejectReason]int64
	ordersRejected  map[RejectReason]int64
}

var _ MetricsTracer = (*stats)(nil)

// provider calls f with p's entry, made if needed, under the lock.
func (s *stats) provider(p peer.ID, f func(*ProviderStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, ok := s.providers[p]
	if !ok {
		if s.providers == nil {
			s.providers = make(map[peer.ID]*ProviderStats)
		}
		if len(s.providers) >= maxPeerStats {
			for old := range s.providers { // drop any one: stats, not state
				delete(s.providers, old)
				break
			}
		}
		ps = new(ProviderStats)
		s.providers[p] = ps
	}
	f(ps)
}

func (s *stats) SyncEnded(p peer.ID, _ string, result SyncResult, _ time.Duration, err error) {
	if result == SyncOK {
		s.syncsCompleted.Add(1)
	} else {
		s.syncsFailed.Add(1)
	}
	s.provider(p, func(st *ProviderStats) {
		st.LastError, st.Err = "", err
		if err != nil {
			st.LastError = err.Error()
		}
	})
}

func (s *stats) PageReceived(p peer.ID, subprotocol string, _ time.Duration, orders, accepted int) {
	s.pages.Add(1)
	s.ordersReceived.Add(int64(orders))
	s.ordersAccepted.Add(int64(accepted))
	s.provider(p, func(st *ProviderStats) {
		if !s.syncing[subprotocol] {
			st.CompanionPages++
			st.CompanionOrders += int64(accepted)
			return
		}
		st.Subprotocol = subprotocol
		st.Pages++
		st.Orders += int64(accepted)
	})
}

func (s *stats) OrdersRejected(_ peer.ID, reason RejectReason, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ordersRejected == nil {
		s.ordersRejected = make(map[RejectReason]int64)
	}
	s.ordersRejected[knownReason(reason)] += int64(n)
}

func (s *stats) OrdersStored(_ peer.ID, n int) { s.ordersNew.Add(int64(n)) }

func (s *stats) RequestServed(_ peer.ID, _ string, _ time.Duration, orders int) {
	s.requestsServed.Add(1)
	s.ordersSent.Add(int64(orders))
}

func (s *stats) StreamRejected(_ peer.ID, reason StreamRejectReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streamsRejected == nil {
		s.streamsRejected = make(map[StreamRejectReason]int64)
	}
	s.streamsRejected[reason]++
}

func (s *stats) BytesRead(role Role, p peer.ID, n int) {
	s.bytesRead.Add(int64(n))
	if role == RoleRequester {
		s.provider(p, func(st *ProviderStats) { st.BytesReceived += int64(n) })
	}
}

func (s *stats) BytesWritten(_ Role, _ peer.ID, n int) { s.bytesWritten.Add(int64(n)) }

// Stats returns a snapshot of the Service's counters.
func (s *Service) Stats() Stats {
	st := &s.stats
	out := Stats{
		BytesRead:      st.bytesRead.Load(),
		BytesWritten:   st.bytesWritten.Load(),
		RequestsServed: st.requestsServed.Load(),
		OrdersSent:     st.ordersSent.Load(),
		SyncsCompleted: st.syncsCompleted.Load(),
		SyncsFailed:    st.syncsFailed.Load(),
		PagesReceived:  st.pages.Load(),
		OrdersReceived: st.ordersReceived.Load(),
		OrdersAccepted: st.ordersAccepted.Load(),
		OrdersNew:      st.ordersNew.Load(),
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out.StreamsRejectedBy = maps.Clone(st.streamsRejected)
	if out.StreamsRejectedBy == nil {
		out.StreamsRejectedBy = map[StreamRejectReason]int64{}
	}
	for reason, n := range st.streamsRejected {
		if reason.turnedAway() {
			out.StreamsRejected += n
		} else {
			out.StreamsCutOff += n
		}
	}
	out.OrdersRejected = maps.Clone(st.ordersRejected)
	if out.OrdersRejected == nil {
		out.OrdersRejected = map[RejectReason]int64{}
	}
	out.Providers = make(map[peer.ID]ProviderStats, len(st.providers))
	for p, ps := range st.providers {
		out.Providers[p] = *ps
	}
	return out
}

// serviceTracer is what the Service and its subprotocols report to: the
// Service's stats first, then the tracer of WithMetricsTracer, if any.
type serviceTracer struct {
	stats *stats
	user  MetricsTracer
}

var _ MetricsTracer = serviceTracer{}

func (t serviceTracer) SyncEnded(p peer.ID, sub string, result SyncResult, d time.Duration, err error) {
	t.stats.SyncEnded(p, sub, result, d, err)
	if t.user != nil {
		t.user.SyncEnded(p, sub, result, d, err)
	}
}

func (t serviceTracer) PageReceived(p peer.ID, sub string, roundTrip time.Duration, orders, accepted int) {
	t.stats.PageReceived(p, sub, roundTrip, orders, accepted)
	if t.user != nil {
		t.user.PageReceived(p, sub, roundTrip, orders, accepted)
	}
}

func (t serviceTracer) OrdersRejected(p peer.ID, reason RejectReason, n int) {
	if n <= 0 {
		return
	}
	reason = knownReason(reason) // so that Stats and series agree
	t.stats.OrdersRejected(p, reason, n)
	if t.user != nil {
		t.user.OrdersRejected(p, reason, n)
	}
}

func (t serviceTracer) OrdersStored(p peer.ID, n int) {
	if n <= 0 {
		return
	}
	t.stats.OrdersStored(p, n)
	if t.user != nil {
		t.user.OrdersStored(p, n)
	}
}

func (t serviceTracer) GetOrdersEnded(synced, minPeers int, d time.Duration, err error) {
	if t.user != nil {
		t.user.GetOrdersEnded(synced, minPeers, d, err)
	}
}

func (t serviceTracer) RequestServed(p peer.ID, sub string, d time.Duration, orders int) {
	t.stats.RequestServed(p, sub, d, orders)
	if t.user != nil {
		t.user.RequestServed(p, sub, d, orders)
	}
}

func (t serviceTracer) StreamRejected(p peer.ID, reason StreamRejectReason) {
	t.stats.StreamRejected(p, reason)
	if t.user != nil {
		t.user.StreamRejected(p, reason)
	}
}

func (t serviceTracer) StreamOpened(role Role) {
	if t.user != nil {
		t.user.StreamOpened(role)
	}
}

func (t serviceTracer) StreamClosed(role Role) {
	if t.user != nil {
		t.user.StreamClosed(role)
	}
}

func (t serviceTracer) BytesRead(role Role, p peer.ID, n int) {
	if n <= 0 {
		return
	}
	t.stats.BytesRead(role, p, n)
	if t.user != nil {
		t.user.BytesRead(role, p, n)
	}
}

func (t serviceTracer) BytesWritten(role Role, p peer.ID, n int) {
	if n <= 0 {
		return
	}
	t.stats.BytesWritten(role, p, n)
	if t.user != nil {
		t.user.BytesWritten(role, p, n)
	}
}

func (t serviceTracer) ReconciliationRound(p peer.ID, role Role, sub string, differences int) {
	if t.user != nil {
		t.user.ReconciliationRound(p, role, sub, differences)
	}
}
