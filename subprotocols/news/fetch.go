package news

import (
	"context"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/zeroex"
)

// announced takes p's announcement of hashes, of origin o: those the node lacks and
// has not rejected are given a moment to come by a push (awaitPushes);
// then those still lacking that no other fetch is getting are claimed and
// fetched from p, without holding up p's stream.
func (n *News) announced(p peer.ID, o origin, hashes []common.Hash) {
	if !n.takeIn(p, len(hashes)) {
		return
	}
	n.counter.received.Add(int64(len(hashes)))
	n.known.add(p, hashes)
	n.known.setOrigin(hashes, o)
	if n.added.bulk(time.Now()) {
		n.counter.bulk.Add(int64(len(hashes)))
		return
	}
	want := n.lacking(n.known.notRejected(hashes))
	if len(want) == 0 {
		return
	}
	n.known.announcedAt(want, time.Now())
	n.awaitPushes(p, want)
}

// fetchFrom claims those of want no other fetch is getting and fetches
// them from p; the others it fetches from p if their fetches end without
// them (the other provider may have stalled or lied).
func (n *News) fetchFrom(p peer.ID, want []common.Hash) {
	mine, busy := n.claim(want)
	n.enqueue(p, mine)
	n.afterOthers(p, busy, func(want []common.Hash) {
		mine, _ := n.claim(want)
		n.enqueue(p, mine)
	})
}

// afterOthers waits, without holding up its caller, for the fetches of
// busy, hashes that other fetches were getting, to end, and then calls
// then with those still lacking. At most WithMaxFetches such waits run for
// one peer; past that, busy is dropped (the syncs catch it).
func (n *News) afterOthers(p peer.ID, busy []common.Hash, then func(want []common.Hash)) {
	if len(busy) == 0 {
		return
	}
	n.mu.Lock()
	st := n.peer(p)
	if n.closed || st.waiting >= n.cfg.maxFetches {
		n.mu.Unlock()
		n.counter.dropped.Add(int64(len(busy)))
		return
	}
	st.waiting++
	n.wg.Add(1)
	n.mu.Unlock()
	go func() {
		defer n.wg.Done()
		// The other fetch ends within its own timeout (twice this one's
		// is room for a sync's, and for a loaded machine).
		ctx, cancel := context.WithTimeout(n.ctx, 2*n.cfg.fetchTimeout)
		err := n.validation.Await(ctx, busy)
		cancel()
		if err == nil {
			if want := n.lacking(n.known.notRejected(busy)); len(want) > 0 {
				then(want)
			}
		}
		n.mu.Lock()
		n.peer(p).waiting--
		n.forgetIdle(p)
		n.mu.Unlock()
	}()
}

// enqueue adds hashes claimed for p to p's queue of hashes to get, and
// starts a worker on it if fewer than WithMaxFetches run: under load,
// announcements that come while gets are under way are asked for together
// in the next get. Hashes past the queue's bound are released and dropped.
func (n *News) enqueue(p peer.ID, mine []common.Hash) {
	if len(mine) == 0 {
		return
	}
	n.mu.Lock()
	st := n.peer(p)
	room := max(maxQueuedHashes-len(st.queue), 0)
	if n.closed {
		room = 0
	}
	excess := mine[min(room, len(mine)):]
	st.queue = append(st.queue, mine[:len(mine)-len(excess)]...)
	start := len(st.queue) > 0 && st.fetching < n.cfg.maxFetches && !n.closed
	if start {
		st.fetching++
		n.wg.Add(1)
	}
	n.mu.Unlock()
	if len(excess) > 0 {
		n.release(excess)
		n.counter.dropped.Add(int64(len(excess)))
	}
	if start {
		go n.work(p)
	}
}

// work gets p's queued hashes, MaxGet at a time, until the queue is empty
// or the link to p fails; then whatever is left is released.
func (n *News) work(p peer.ID) {
	defer n.wg.Done()
	for {
		n.mu.Lock()
		st := n.peer(p)
		take := st.queue[:min(MaxGet, len(st.queue))]
		st.queue = st.queue[len(take):]
		if len(take) == 0 {
			st.fetching--
			n.forgetIdle(p)
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		ok := n.fetch(p, take)
		n.release(take)
		if !ok {
			n.mu.Lock()
			st := n.peer(p)
			rest := st.queue
			st.queue = nil
			st.fetching--
			n.forgetIdle(p)
			n.mu.Unlock()
			n.release(rest)
			return
		}
	}
}

// lacking returns the hashes, once each, whose orders the store does not
// hold.
func (n *News) lacking(hashes []common.Hash) []common.Hash {
	once := unique(hashes)
	held := n.lookUp(n.ctx, once)
	out := once[:0]
	for i, h := range once {
		if held[i] == nil {
			out = append(out, h)
		}
	}
	return out
}

// fetch gets the orders of hashes (at most MaxGet, claimed) from p and
// takes them in as a sync takes in a page. It returns false when the link
// to p failed, so that the rest of an announcement is not asked for.
func (n *News) fetch(p peer.ID, hashes []common.Hash) bool {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.fetchTimeout)
	defer cancel()
	l := n.link(p)
	start := time.Now()
	orders, err := l.get(ctx, hashes)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && n.ctx.Err() == nil {
			// The peer let the get time out: its link is useless now,
			// since answers come in order.
			n.counter.timeouts.Add(1)
			n.node.AddPeerScore(p, peerscore.MessageTimeout, peerscore.MessageTimeoutDelta)
			l.close(errors.New("news: a get timed out"))
		}
		return false
	}
	roundTrip := time.Since(start)
	n.counter.fetched.Add(int64(len(orders)))
	kept := n.asked(p, hashes, orders)
	acc, err := n.pager.AcceptFetched(n.ctx, p, kept)
	n.tracer.PageReceived(p, Name, roundTrip, len(orders), acc.Valid)
	if err != nil {
		return false
	}
	n.known.reject(acc.Rejected)
	if undelivered := len(hashes) - len(kept); 2*undelivered > len(hashes) {
		// An announcer that does not deliver most of what it announced
		// (an order that expired or left in between is no more than a few).
		n.node.AddPeerScore(p, peerscore.UndeliveredOrders, peerscore.UndeliveredOrdersDelta)
	}
	return true
}

// asked returns the orders of hashes among orders, once each; any other
// order was never asked for, and p is scored for it.
func (n *News) asked(p peer.ID, hashes []common.Hash, orders []*zeroex.SignedOrder) []*zeroex.SignedOrder {
	want := make(map[common.Hash]bool, len(hashes))
	for _, h := range hashes {
		want[h] = true
	}
	kept := make([]*zeroex.SignedOrder, 0, len(orders))
	unasked := false
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil || !want[h] {
			unasked = true
			continue
		}
		want[h] = false
		kept = append(kept, o)
	}
	if unasked {
		n.node.AddPeerScore(p, peerscore.InvalidOrder, peerscore.InvalidOrderDelta)
	}
	return kept
}

// unique returns hashes without repeats, in a new slice.
func unique(hashes []common.Hash) []common.Hash {
	seen := make(map[common.Hash]bool, len(hashes))
	out := hashes[:0:0]
	for _, h := range hashes {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
