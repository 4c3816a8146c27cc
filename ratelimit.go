package ordersync

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// maxIdlePeerLimiters is how many per-peer limiters may pile up before the
// idle ones are dropped.
const maxIdlePeerLimiters = 1024

// peerLimiters gives each requester its own rate limiter, on top of the
// shared one.
type peerLimiters struct {
	limit rate.Limit
	burst int

	mu       sync.Mutex
	limiters map[peer.ID]*rate.Limiter
}

func newPeerLimiters(limit rate.Limit, burst int) *peerLimiters {
	return &peerLimiters{limit: limit, burst: burst, limiters: make(map[peer.ID]*rate.Limiter)}
}

// get returns p's limiter, making it if needed.
func (l *peerLimiters) get(p peer.ID) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim, ok := l.limiters[p]; ok {
		return lim
	}
	if len(l.limiters) >= maxIdlePeerLimiters {
		l.dropFull()
	}
	lim := rate.NewLimiter(l.limit, l.burst)
	l.limiters[p] = lim
	return lim
}

// dropFull forgets limiters that have refilled to their burst: a fresh one
// behaves the same, so forgetting them is free. Each new stream needs a
// token from the shared limiter, so limiters that are not full cannot pile
// up faster than that limiter allows.
func (l *peerLimiters) dropFull() {
	for p, lim := range l.limiters {
		if lim.Tokens() >= float64(l.burst) {
			delete(l.limiters, p)
		}
	}
}
