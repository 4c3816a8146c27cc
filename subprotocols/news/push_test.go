package news

import (
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A duplicate push of an order that came by a push prunes the pusher from
// its origin's tree only; a duplicate relay (an order off the tree) prunes
// nothing; a graft makes the peer eager again.
func TestDuplicatePushPrunesRelayDoesNot(t *testing.T) {
	n := startNews(t, testnet.NewHost(t), nil, nil).News
	order := nodetest.Orders(1)
	first, relayer, pusher := peer.ID("first"), peer.ID("relayer"), peer.ID("pusher")
	o, other := originOf("origin"), originOf("other")
	n.handleMessage(first, message{kind: kindPush, origin: o, orders: order})
	if n.store.(interface{ Len() int }).Len() != 1 {
		t.Fatal("the pushed order was not stored")
	}
	isLazy := func(p peer.ID, o origin) bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.lazy.is(o, p)
	}
	n.handleMessage(relayer, message{kind: kindRelay, origin: o, orders: order})
	if isLazy(relayer, o) || isLazy(first, o) {
		t.Error("a relayed duplicate pruned a link")
	}
	n.handleMessage(pusher, message{kind: kindPush, origin: o, orders: order})
	if !isLazy(pusher, o) {
		t.Error("a pushed duplicate did not prune the pusher")
	}
	if isLazy(pusher, other) {
		t.Error("a pushed duplicate pruned the pusher from another origin's tree")
	}
	n.handleMessage(pusher, message{kind: kindGraft, origin: o})
	if isLazy(pusher, o) {
		t.Error("a graft left the peer lazy")
	}
	if st := n.Stats(); st.PushedIn != 3 || st.Duplicates != 2 {
		t.Errorf("%+v: want 3 pushed in, 2 duplicates", st)
	}
}

// Prunes of ever new origins, as a hostile peer might send, keep at most
// maxOrigins trees; the oldest are forgotten (eager again).
func TestPrunesOfManyOriginsAreBounded(t *testing.T) {
	lazy := newLazyTable()
	p := peer.ID("pruner")
	for i := range 3 * maxOrigins {
		lazy.set(originOf(peer.ID(fmt.Sprint(i))), p, true)
	}
	if len(lazy.byOrigin) != maxOrigins || len(lazy.order) != maxOrigins {
		t.Fatalf("%d trees kept (%d in order), want %d", len(lazy.byOrigin), len(lazy.order), maxOrigins)
	}
	if lazy.is(originOf("0"), p) || !lazy.is(originOf(peer.ID(fmt.Sprint(3*maxOrigins-1))), p) {
		t.Error("the oldest origin was kept or the newest forgotten")
	}
}

// A duplicate push of an order whose first push came over a link pruned
// since does not prune the pusher: that link may be the node's last one to
// the origin's tree. A duplicate of an order whose first pusher is still
// eager does.
func TestDuplicateKeepsLastEagerLink(t *testing.T) {
	n := startNews(t, testnet.NewHost(t), nil, nil).News
	orders := nodetest.Orders(2)
	first, pusher := peer.ID("first"), peer.ID("pusher")
	o := originOf("origin")
	isLazy := func(p peer.ID) bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.lazy.is(o, p)
	}
	n.handleMessage(first, message{kind: kindPush, origin: o, orders: orders[:1]})
	n.handleMessage(pusher, message{kind: kindPrune, origin: o})
	n.handleMessage(first, message{kind: kindPush, origin: o, orders: orders[1:]})
	n.handleMessage(first, message{kind: kindPrune, origin: o}) // first's link is pruned now
	n.handleMessage(pusher, message{kind: kindGraft, origin: o})
	n.handleMessage(pusher, message{kind: kindPush, origin: o, orders: orders[1:]})
	if isLazy(pusher) {
		t.Error("a duplicate of an order first pushed over a pruned link pruned the pusher")
	}
	n.handleMessage(first, message{kind: kindGraft, origin: o})
	n.handleMessage(pusher, message{kind: kindPush, origin: o, orders: orders[:1]})
	if !isLazy(pusher) {
		t.Error("a duplicate of an order whose first pusher is eager did not prune the pusher")
	}
}
