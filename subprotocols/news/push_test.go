package news

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A duplicate push of an order that came by a push prunes the pusher; a
// duplicate relay (an order off the tree) prunes nothing; a graft makes
// the peer eager again.
func TestDuplicatePushPrunesRelayDoesNot(t *testing.T) {
	n := startNews(t, testnet.NewHost(t), nil, nil).News
	order := nodetest.Orders(1)
	first, relayer, pusher := peer.ID("first"), peer.ID("relayer"), peer.ID("pusher")
	n.handleMessage(first, message{kind: kindPush, orders: order})
	if n.store.(interface{ Len() int }).Len() != 1 {
		t.Fatal("the pushed order was not stored")
	}
	isLazy := func(p peer.ID) bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.lazy[p]
	}
	n.handleMessage(relayer, message{kind: kindRelay, orders: order})
	if isLazy(relayer) || isLazy(first) {
		t.Error("a relayed duplicate pruned a link")
	}
	n.handleMessage(pusher, message{kind: kindPush, orders: order})
	if !isLazy(pusher) {
		t.Error("a pushed duplicate did not prune the pusher")
	}
	n.handleMessage(pusher, message{kind: kindGraft})
	if isLazy(pusher) {
		t.Error("a graft left the peer lazy")
	}
	if st := n.Stats(); st.PushedIn != 3 || st.Duplicates != 2 {
		t.Errorf("%+v: want 3 pushed in, 2 duplicates", st)
	}
}
