package reconcile

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// rejectedSet is the requester's bounded, expiring memory of the hashes
// of orders it rejected (bad signature, not matching its filter). They
// count as held when it reconciles, so a provider that holds them is not
// asked for them again every round.
type rejectedSet struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	until map[common.Hash]time.Time
	fifo  []common.Hash // insertion order, for eviction; may hold stale entries
}

func newRejectedSet(max int, ttl time.Duration, now func() time.Time) *rejectedSet {
	return &rejectedSet{max: max, ttl: ttl, now: now, until: make(map[common.Hash]time.Time)}
}

// add remembers h until the set's time-to-live passes, forgetting the
// oldest entries when full.
func (r *rejectedSet) add(h common.Hash) {
	if r.max == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.until[h]; !ok {
		r.fifo = append(r.fifo, h)
	}
	r.until[h] = r.now().Add(r.ttl)
	for len(r.until) > r.max {
		old := r.fifo[0]
		r.fifo = r.fifo[1:]
		delete(r.until, old)
	}
	if len(r.fifo) > 2*r.max+16 { // compact what eviction left behind
		r.compact()
	}
}

// list returns the hashes not yet expired, dropping the others.
func (r *rejectedSet) list() []common.Hash {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	out := make([]common.Hash, 0, len(r.until))
	for h, t := range r.until {
		if now.After(t) {
			delete(r.until, h)
			continue
		}
		out = append(out, h)
	}
	r.compact()
	return out
}

// compact drops fifo entries no longer in the set. The caller holds mu.
func (r *rejectedSet) compact() {
	kept := r.fifo[:0]
	for _, h := range r.fifo {
		if _, ok := r.until[h]; ok {
			kept = append(kept, h)
		}
	}
	clear(r.fifo[len(kept):])
	r.fifo = kept
}
