package news

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/zeroex"
)

// News spreads orders as epidemic broadcast trees do (Plumtree): a new
// order is pushed whole at once along the eager links, and only announced,
// later and batched, along the lazy ones. A node that is pushed an order it
// holds already prunes that link (both ends make it lazy): the eager links
// thin out to a tree, which carries each order to each node once. A node
// announced an order that no push brings in time gets it from the
// announcer and grafts that link (both ends make it eager again): the tree
// mends where it was cut.

// push sends orders whole to each neighbour not known to hold them that
// is eager in their origin's tree, within its budget. Those a neighbour is
// not sent are announced to it with the next lazy batch; those whose push
// is not written after all (the link failed or was too far behind) are
// announced to it on its link (link.notSent).
func (n *News) push(orders []*zeroex.SignedOrder) {
	hashes := make([]common.Hash, 0, len(orders))
	encoded := make(map[common.Hash][]byte, len(orders))
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			continue
		}
		b, err := o.AppendJSON(nil)
		if err != nil || len(b) > MaxOrderBytes {
			continue
		}
		hashes = append(hashes, h)
		encoded[h] = b
	}
	relayed := n.known.notFromTree(hashes) // before this push tells anyone
	groups := n.byOrigin(hashes)
	for _, p := range n.neighbors() {
		if p == n.node.ID() {
			continue
		}
		var eager []common.Hash
		n.mu.Lock()
		for _, g := range groups {
			if !n.lazy.is(g.origin, p) {
				eager = append(eager, g.hashes...)
			}
		}
		n.mu.Unlock()
		tell := n.allowOut(p, n.known.unknownTo(p, eager))
		if len(tell) == 0 {
			continue
		}
		var msg []byte
		for _, g := range n.byOrigin(tell) {
			var tree, relay [][]byte
			for _, h := range g.hashes {
				if relayed[h] {
					relay = append(relay, encoded[h])
				} else {
					tree = append(tree, encoded[h])
				}
			}
			if len(tree) > 0 {
				msg = appendPush(msg, kindPush, g.origin, tree)
			}
			if len(relay) > 0 {
				msg = appendPush(msg, kindRelay, g.origin, relay)
			}
		}
		n.known.sending(p, tell) // known to p once written (link.run)
		if n.link(p).tell(outgoing{msg: msg, told: tell, pushed: true}) {
			n.counter.pushed.Add(int64(len(tell)))
		} else {
			n.counter.dropped.Add(int64(len(tell)))
		}
	}
}

// allowOut returns the first of hashes that p's outgoing budget allows,
// and spends the budget on them.
func (n *News) allowOut(p peer.ID, hashes []common.Hash) []common.Hash {
	if len(hashes) == 0 {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	out := n.peer(p).out
	now := time.Now()
	allowed := min(len(hashes), max(int(out.TokensAt(now)), 0))
	if allowed > 0 {
		out.AllowN(now, allowed)
	}
	return hashes[:allowed]
}

// pushedIn takes in the orders of origin o p pushed, as a get's answer is taken in:
// those the node lacks, has not rejected and no other fetch is getting go
// through the sync's checks into the store; those another fetch is getting
// are taken in from this push if that fetch ends without them. A push that
// brings nothing new while the node holds one of its orders from another
// push already, or is taking one in from another push, prunes p from o's
// tree. (An order
// fetched after an announcement, or by a sync, does not count: the push
// that comes after it is a slow branch of the tree, not a cycle.)
func (n *News) pushedIn(p peer.ID, o origin, orders []*zeroex.SignedOrder, relay bool) {
	if !n.takeIn(p, len(orders)) {
		return
	}
	n.counter.pushedIn.Add(int64(len(orders)))
	hashes := make([]common.Hash, 0, len(orders))
	var malformed []*zeroex.SignedOrder // taken in all the same, to be scored
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			malformed = append(malformed, o)
			continue
		}
		hashes = append(hashes, h)
	}
	hashes = unique(hashes)
	n.known.add(p, hashes)
	n.known.setOrigin(hashes, o)
	for _, lag := range n.known.pushLags(hashes, time.Now()) {
		n.lag.add(lag)
	}
	mine, busy := n.claim(n.lacking(n.known.notRejected(hashes)))
	n.takePushed(p, mine, orders, malformed, relay)
	n.counter.duplicates.Add(int64(len(hashes) - len(mine)))
	if !relay && len(mine) == 0 && (n.cycle(p, o, hashes) || n.takingPushed(busy)) {
		n.prune(p, o)
	}
	if len(busy) == 0 {
		return
	}
	waiting := ordersOf(orders, busy) // not the whole push, while it waits
	n.afterOthers(p, busy, func(want []common.Hash) {
		mine, _ := n.claim(want)
		n.takePushed(p, mine, waiting, nil, relay)
	})
}

// cycle reports whether p's push of hashes, of origin o, which this node
// holds, shows a cycle of eager links in o's tree: one of them came first
// by the push of a peer that is still eager in o's tree (or by p's own
// push: p pushes it again, which an honest peer never does). When each came
// first over a link pruned since (by this node, or by the peer), p's link
// may be the only one left that joins this node to the tree, and pruning
// it too would cut the tree (as happens when pushes lag, under load, and
// the prunes of several orders in flight cross).
func (n *News) cycle(p peer.ID, o origin, hashes []common.Hash) bool {
	first := n.known.pushers(hashes)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, q := range first {
		if q == p || !n.lazy.is(o, q) {
			return true
		}
	}
	return false
}

// ordersOf returns those of orders whose hashes are in hashes.
func ordersOf(orders []*zeroex.SignedOrder, hashes []common.Hash) []*zeroex.SignedOrder {
	in := make(map[common.Hash]bool, len(hashes))
	for _, h := range hashes {
		in[h] = true
	}
	var out []*zeroex.SignedOrder
	for _, o := range orders {
		if h, err := o.ComputeOrderHash(); err == nil && in[h] {
			out = append(out, o)
			delete(in, h)
		}
	}
	return out
}

// takePushed takes in, as pushed by p, those of orders whose hashes are
// claimed (mine, which it releases), and the malformed orders, which the
// checks refuse and score. Orders relayed, not pushed along the tree, are
// passed on as relayed too.
func (n *News) takePushed(p peer.ID, mine []common.Hash, orders, malformed []*zeroex.SignedOrder, relay bool) {
	take := append(malformed, ordersOf(orders, mine)...)
	if len(take) == 0 {
		return
	}
	n.markPushed(mine, 1)
	acc, err := n.pager.AcceptFetched(n.ctx, p, take)
	n.markPushed(mine, -1)
	n.tracer.PageReceived(p, Name, 0, len(take), acc.Valid)
	n.release(mine)
	if err == nil {
		n.known.reject(acc.Rejected)
		if !relay {
			n.known.byPush(p, mine)
		}
	}
}

// markPushed counts hashes in (1) or out (-1) of those being taken in
// from pushes.
func (n *News) markPushed(hashes []common.Hash, diff int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range hashes {
		if n.inPush[h] += diff; n.inPush[h] <= 0 {
			delete(n.inPush, h)
		}
	}
}

// takingPushed reports whether one of hashes is being taken in from a
// push.
func (n *News) takingPushed(hashes []common.Hash) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range hashes {
		if n.inPush[h] > 0 {
			return true
		}
	}
	return false
}

// prune makes p lazy in o's tree and tells it to make this node lazy
// there too.
func (n *News) prune(p peer.ID, o origin) {
	if n.setTree(p, o, true, kindPrune) {
		n.counter.pruned.Add(1)
	}
}

// graft makes p eager in o's tree and tells it to make this node eager
// there too.
func (n *News) graft(p peer.ID, o origin) {
	if n.setTree(p, o, false, kindGraft) {
		n.counter.grafted.Add(1)
	}
}

// setTree makes p lazy or eager in o's tree and sends p the prune or
// graft (kind) that says so; false when it could not be sent.
func (n *News) setTree(p peer.ID, o origin, lazy bool, kind byte) bool {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return false
	}
	n.lazy.set(o, p, lazy)
	l := n.linkLocked(p)
	n.mu.Unlock()
	return l.send(appendOriginMessage(nil, kind, o))
}

// graftIfCut grafts the link to p, in the trees of hashes' origins, if no
// push of hashes, announced orders no push brought in time, comes within
// cutWait either: then the tree is cut, not slow. (A push that comes late
// is a slow branch, and grafting for it would only make a cycle for the
// next duplicate to prune.)
func (n *News) graftIfCut(p peer.ID, hashes []common.Hash) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTimer(cutWait)
		defer t.Stop()
		select {
		case <-t.C:
			for _, g := range n.byOrigin(hashes) {
				if n.known.neverPushed(g.hashes) {
					n.graft(p, g.origin)
				}
			}
		case <-n.ctx.Done():
		}
	}()
}

// setLazy takes p's prune (lazy) or graft (not lazy) of o's tree, within
// its budget.
func (n *News) setLazy(p peer.ID, o origin, lazy bool) {
	if !n.takeIn(p, 1) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lazy.set(o, p, lazy)
}

// awaitPushes gives hashes p announced, which the node lacks, a while to
// come by a push (lagMeter); those still lacking then are fetched from p,
// and the link to p grafted if no push of them comes at all (graftIfCut). One worker per peer waits; hashes announced meanwhile
// join its wait, at most maxQueuedHashes of them (the rest are left to the
// syncs).
func (n *News) awaitPushes(p peer.ID, hashes []common.Hash) {
	n.mu.Lock()
	st := n.peer(p)
	room := max(maxQueuedHashes-len(st.later), 0)
	if n.closed {
		room = 0
	}
	keep := hashes[:min(room, len(hashes))]
	st.later = append(st.later, keep...)
	start := len(keep) > 0 && !st.lazyWait
	if start {
		st.lazyWait = true
		n.wg.Add(1)
	}
	n.mu.Unlock()
	n.counter.dropped.Add(int64(len(hashes) - len(keep)))
	if !start {
		return
	}
	go func() {
		defer n.wg.Done()
		t := time.NewTimer(n.lag.wait())
		defer t.Stop()
		select {
		case <-t.C:
		case <-n.ctx.Done():
		}
		n.mu.Lock()
		st := n.peer(p)
		want := st.later
		st.later = nil
		st.lazyWait = false
		n.forgetIdle(p)
		n.mu.Unlock()
		if n.ctx.Err() != nil {
			return
		}
		want = n.lacking(n.known.notRejected(want))
		if len(want) == 0 {
			return
		}
		n.fetchFrom(p, want)
		n.graftIfCut(p, want)
	}()
}
