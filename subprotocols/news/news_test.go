package news

import (
	"context"
	"testing"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// Orders added at one end of a chain of three nodes reach the other end by
// announcements alone: no sync runs.
func TestNewsCrossesAChain(t *testing.T) {
	hosts := testnet.New(t, 3, testnet.WithoutConnecting())
	testnet.Connect(t, hosts[0], hosts[1])
	testnet.Connect(t, hosts[1], hosts[2])
	nodes := make([]*newsNode, 3)
	for i, h := range hosts {
		nodes[i] = startNews(t, h, nil, nil)
	}
	sub := nodes[2].Store.Subscribe(0)
	defer sub.Close()
	orders := nodetest.Orders(300)
	for _, batch := range [][]int{{0, 1}, {1, 100}, {100, 300}} {
		if _, err := nodes[0].Store.AddOrders(context.Background(), orders[batch[0]:batch[1]]); err != nil {
			t.Fatal(err)
		}
	}
	waitHolds(t, nodes[2].Store, sub, hashesOf(t, orders)...)
	nodetest.SameOrders(t, nodes[1].Store, orders)
	for i, n := range nodes {
		if st := n.Service.Stats(); st.SyncsCompleted+st.SyncsFailed != 0 {
			t.Errorf("node %d ran %d syncs, want none", i, st.SyncsCompleted+st.SyncsFailed)
		}
	}
	if st := nodes[1].News.Stats(); st.Announced != 300 {
		t.Errorf("middle node: %+v, want 300 announced (to the last node only)", st)
	}
	if st := nodes[2].News.Stats(); st.Fetched != 300 || st.Announced != 0 {
		t.Errorf("last node: %+v, want 300 fetched and none announced (its one neighbour sent them)", st)
	}
	if st := nodes[1].Service.Stats(); st.OrdersNew != 300 || st.OrdersAccepted != 300 {
		t.Errorf("middle node's Stats: new %d, accepted %d, want 300 each", st.OrdersNew, st.OrdersAccepted)
	}
}
