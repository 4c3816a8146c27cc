package ordersync

import (
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Stats are a Service's counters since New, for logs and dashboards.
type Stats struct {
	// BytesRead and BytesWritten count ordersync stream bytes, both roles.
	BytesRead    int64
	BytesWritten int64
	// RequestsServed counts responses written as a provider.
	RequestsServed int64
	// StreamsRejected counts inbound streams reset by the rate limit or
	// the stream cap.
	StreamsRejected int64
	// SyncsCompleted counts syncs, as a requester, that delivered at least
	// one valid order and ended with the provider's complete response.
	SyncsCompleted int64
	// SyncsFailed counts every other sync.
	SyncsFailed int64
	// Providers has one entry per provider peer synced with (the most
	// recent ones, if there were very many).
	Providers map[peer.ID]ProviderStats
}

// ProviderStats are a requester's counters for one provider.
type ProviderStats struct {
	// Subprotocol is the subprotocol the provider chose last.
	Subprotocol string
	// Pages counts the responses received.
	Pages int64
	// Orders sums the valid orders received, as the subprotocol counted
	// them.
	Orders int64
	// BytesReceived counts the bytes read from the provider.
	BytesReceived int64
	// LastError is the error of the last sync with the provider, "" if it
	// succeeded.
	LastError string
	// Err is that error itself, nil if the sync succeeded: errors.Is
	// tells, say, ErrNoOrdersFromPeer from a broken stream.
	Err error
}

// stats is the live form of Stats.
type stats struct {
	bytesRead, bytesWritten atomic.Int64
	requestsServed          atomic.Int64
	streamsRejected         atomic.Int64
	syncsCompleted          atomic.Int64
	syncsFailed             atomic.Int64

	mu        sync.Mutex
	providers map[peer.ID]*ProviderStats
}

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

// Stats returns a snapshot of the Service's counters.
func (s *Service) Stats() Stats {
	st := &s.stats
	out := Stats{
		BytesRead:       st.bytesRead.Load(),
		BytesWritten:    st.bytesWritten.Load(),
		RequestsServed:  st.requestsServed.Load(),
		StreamsRejected: st.streamsRejected.Load(),
		SyncsCompleted:  st.syncsCompleted.Load(),
		SyncsFailed:     st.syncsFailed.Load(),
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out.Providers = make(map[peer.ID]ProviderStats, len(st.providers))
	for p, ps := range st.providers {
		out.Providers[p] = *ps
	}
	return out
}
