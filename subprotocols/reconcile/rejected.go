package reconcile

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// rejectedSet is the requester's bounded, expiring memory of the hashes
// of orders it rejected. They count as held when it reconciles, so that a
// provider that holds them is not asked for them again every round.
//
// What a rejection is remembered for depends on what it was judged on
// (see the package documentation, "Rejected orders"): a verdict on what
// the order hash covers holds for every copy, so it is remembered for
// every provider (provider ""); a verdict a copy can fake (a broken
// signature: the hash does not cover the signature) is remembered only
// for the provider that sent that copy, so that it cannot hide the order
// from the others.
type rejectedSet struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	until map[rejection]time.Time
	fifo  []rejection // insertion order, for eviction; may hold stale entries
}

// rejection is a rejected hash and the provider it is remembered for, ""
// for all of them.
type rejection struct {
	provider peer.ID
	hash     common.Hash
}

func newRejectedSet(max int, ttl time.Duration, now func() time.Time) *rejectedSet {
	return &rejectedSet{max: max, ttl: ttl, now: now, until: make(map[rejection]time.Time)}
}

// add remembers h for provider ("" for every provider) until the set's
// time-to-live passes, forgetting the oldest entries when full.
func (r *rejectedSet) add(provider peer.ID, h common.Hash) {
	if r.max == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := rejection{provider, h}
	if _, ok := r.until[k]; !ok {
		r.fifo = append(r.fifo, k)
	}
	r.until[k] = r.now().Add(r.ttl)
	for len(r.until) > r.max {
		old := r.fifo[0]
		r.fifo = r.fifo[1:]
		delete(r.until, old)
	}
	if len(r.fifo) > 2*r.max+16 { // compact what eviction left behind
		r.compact()
	}
}

// list returns the hashes not yet expired that count as held with
// provider: those remembered for every provider, and, when provider is
// not "", those remembered for it alone and not for every provider (in
// own). It drops the expired.
func (r *rejectedSet) list(provider peer.ID) (all, own []common.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	all = make([]common.Hash, 0, len(r.until))
	for k, t := range r.until {
		if now.After(t) {
			delete(r.until, k)
			continue
		}
		switch k.provider {
		case "":
			all = append(all, k.hash)
		case provider:
			own = append(own, k.hash)
		}
	}
	r.compact()
	// A hash in both counts once: an item twice in a set would cancel in
	// its symbols and not match its digest.
	kept := own[:0]
	for _, h := range own {
		if _, both := r.until[rejection{"", h}]; !both {
			kept = append(kept, h)
		}
	}
	return all, kept
}

// compact drops fifo entries no longer in the set. The caller holds mu.
func (r *rejectedSet) compact() {
	kept := r.fifo[:0]
	for _, k := range r.fifo {
		if _, ok := r.until[k]; ok {
			kept = append(kept, k)
		}
	}
	clear(r.fifo[len(kept):])
	r.fifo = kept
}
