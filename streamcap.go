package ordersync

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// This file is the provider's per-peer stream cap
// (WithMaxStreamsPerPeer); the rate limits are ratelimit.go's.

// peerStreams counts the inbound streams being served per peer.
type peerStreams struct {
	max    int
	mu     sync.Mutex
	active map[peer.ID]int // only peers with streams: at most maxStreams
}

func newPeerStreams(max int) *peerStreams {
	return &peerStreams{max: max, active: make(map[peer.ID]int)}
}

// acquire takes one of p's stream slots, if it has one left.
func (ps *peerStreams) acquire(p peer.ID) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.active[p] >= ps.max {
		return false
	}
	ps.active[p]++
	return true
}

// release gives back a slot that acquire took.
func (ps *peerStreams) release(p peer.ID) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.active[p] <= 1 {
		delete(ps.active, p)
		return
	}
	ps.active[p]--
}
