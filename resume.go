package ordersync

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// resumePoint is where a broken-off sync with a provider stopped: the
// subprotocol the provider chose and, for each lane, the request whose
// response it has not taken in yet, with what the sync had taken so far
// (so that the per-sync bounds hold across rounds).
type resumePoint struct {
	sub Subprotocol
	// lanes are the sync's lanes not yet done, in lane order; one until
	// the sync spreads (see Spreader).
	lanes  []*lane
	spread bool
	pages  int
	orders int
	valid  int
}

// resumePoints remembers broken-off syncs, a bounded number of them.
type resumePoints struct {
	max    int
	mu     sync.Mutex
	points map[peer.ID]resumePoint
}

func newResumePoints(max int) *resumePoints {
	return &resumePoints{max: max, points: make(map[peer.ID]resumePoint)}
}

// take returns and forgets p's resume point.
func (r *resumePoints) take(p peer.ID) (resumePoint, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	point, ok := r.points[p]
	delete(r.points, p)
	return point, ok
}

// put remembers p's resume point, forgetting another peer's if full:
// losing one only means that sync starts over.
func (r *resumePoints) put(p peer.ID, point resumePoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.points[p]; !ok && len(r.points) >= r.max {
		for old := range r.points {
			delete(r.points, old)
			break
		}
	}
	r.points[p] = point
}
