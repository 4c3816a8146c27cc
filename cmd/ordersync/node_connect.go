package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"

	"github.com/ordersync/ordersync"
)

// connectSyncs is how many syncs with newly connected peers the node runs
// at once, and connectQueue how many peers may wait for one: a burst of
// connections waits its turn, and a peer that finds the queue full is
// synced by the next round instead.
const (
	connectSyncs = 2
	connectQueue = 256
)

// connectSyncer syncs with a peer as soon as the host learns that it
// speaks ordersync (identify has completed listing it, or the peer has
// started speaking it since), instead of leaving it to the next round,
// up to an interval away. It is bounded whatever peers do: connectSyncs
// workers run the syncs, a peer is queued at most once, and a peer
// synced on connecting is not synced on connecting again within the
// cooldown, so a peer that connects and disconnects in a loop costs at
// most one sync a cooldown. The Service joins a sync already running
// with the peer (a round's, say) rather than starting a second.
type connectSyncer struct {
	h        host.Host
	sync     func(context.Context, peer.ID) error // Service.SyncPeer
	cooldown time.Duration
	log      interface{ Debugf(string, ...any) }
	// synced, if set, is told of each sync's end (tests).
	synced func(peer.ID, error)

	sub   event.Subscription
	queue chan peer.ID

	mu     sync.Mutex
	queued map[peer.ID]bool      // in queue
	last   map[peer.ID]time.Time // when p was last queued
}

// newConnectSyncer subscribes to h's identify events, so that no peer
// identified from now on is missed; run then handles them.
func newConnectSyncer(h host.Host, sync func(context.Context, peer.ID) error, cooldown time.Duration, log interface{ Debugf(string, ...any) }) (*connectSyncer, error) {
	sub, err := h.EventBus().Subscribe([]any{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerProtocolsUpdated)},
		eventbus.Name("ordersync-node-connect"))
	if err != nil {
		return nil, err
	}
	return &connectSyncer{
		h: h, sync: sync, cooldown: cooldown, log: log, sub: sub,
		queue:  make(chan peer.ID, connectQueue),
		queued: make(map[peer.ID]bool),
		last:   make(map[peer.ID]time.Time),
	}, nil
}

// run handles the host's events and runs the syncs until ctx ends, then
// returns once they have ended.
func (c *connectSyncer) run(ctx context.Context) {
	defer c.sub.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	for range connectSyncs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.work(ctx)
		}()
	}
	for {
		select {
		case e, ok := <-c.sub.Out():
			if !ok {
				return
			}
			switch e := e.(type) {
			case event.EvtPeerIdentificationCompleted:
				if slices.Contains(e.Protocols, ordersync.ID) {
					c.offer(e.Peer)
				}
			case event.EvtPeerProtocolsUpdated:
				if slices.Contains(e.Added, ordersync.ID) {
					c.offer(e.Peer)
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// offer queues p for a sync unless it is queued, was synced on connecting
// within the cooldown, or the queue is full. It never blocks: the event
// bus waits for a slow subscriber.
func (c *connectSyncer) offer(p peer.ID) {
	if p == c.h.ID() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.queued[p] || now.Sub(c.last[p]) < c.cooldown {
		return
	}
	if len(c.last) >= connectQueue {
		// Forget the peers whose cooldown is over, so that the map holds
		// at most the peers synced within one cooldown.
		for q, at := range c.last {
			if now.Sub(at) >= c.cooldown {
				delete(c.last, q)
			}
		}
	}
	select {
	case c.queue <- p:
		c.queued[p] = true
		c.last[p] = now
	default:
		c.log.Debugf("node: %d peers wait for a sync on connecting; %s waits for the next round", connectQueue, p)
	}
}

// work runs the queued syncs, one at a time, until ctx ends.
func (c *connectSyncer) work(ctx context.Context) {
	for {
		select {
		case p := <-c.queue:
			c.mu.Lock()
			delete(c.queued, p)
			c.mu.Unlock()
			if c.h.Network().Connectedness(p) != network.Connected {
				continue // gone again: nothing to sync with
			}
			err := c.sync(ctx, p)
			if err != nil && ctx.Err() == nil {
				c.log.Debugf("node: sync with %s on connecting: %v", p, err)
			}
			if c.synced != nil {
				c.synced(p, err)
			}
		case <-ctx.Done():
			return
		}
	}
}
