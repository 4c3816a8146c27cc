package ordersync

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A subprotocol keeps per-provider requester state (cursors, reconcile's
// phase), and two syncs with one provider at once would interleave their
// pages in it: each would see the other's answers as the provider's
// mistakes. So the Service runs at most one sync per provider; a caller
// that wants one while another runs joins it and takes its outcome.

// flight is one sync with a provider, running or just ended.
type flight struct {
	done  chan struct{} // closed when the sync has ended
	valid int
	err   error
	// cutOff: the sync ended because its caller's context did, which
	// says nothing of the provider: a caller that joined it and still
	// wants a sync starts its own.
	cutOff bool
}

// flights are the syncs running, by provider.
type flights struct {
	mu      sync.Mutex
	running map[peer.ID]*flight
	// joined, if set, is told of each caller that joins a running sync:
	// a test seam.
	joined func(peer.ID)
}

// sync syncs with p as syncWithPeer does, unless a sync with p is running,
// whose outcome it then waits for and returns. When ctx ends first it
// returns ctx's error at once; the running sync goes on for its own caller.
func (s *Service) sync(ctx context.Context, p peer.ID) (int, error) {
	for {
		f, mine := s.flights.join(p)
		if mine {
			f.valid, f.err = s.syncWithPeer(ctx, p)
			s.validation.endSync(p)
			s.validation.LeaveShare(p)
			f.cutOff = ctx.Err() != nil
			s.flights.land(p)
			close(f.done)
			return f.valid, f.err
		}
		if s.flights.joined != nil {
			s.flights.joined(p)
		}
		select {
		case <-f.done:
			if f.cutOff && ctx.Err() == nil {
				continue
			}
			return f.valid, f.err
		case <-ctx.Done():
			return 0, ended(ctx)
		}
	}
}

// join returns p's running sync, or a new one that the caller runs (mine).
func (fl *flights) join(p peer.ID) (f *flight, mine bool) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if f, ok := fl.running[p]; ok {
		return f, false
	}
	if fl.running == nil {
		fl.running = make(map[peer.ID]*flight)
	}
	f = &flight{done: make(chan struct{})}
	fl.running[p] = f
	return f, true
}

// land forgets p's sync, which has ended.
func (fl *flights) land(p peer.ID) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	delete(fl.running, p)
}
