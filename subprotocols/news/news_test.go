package news

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// Orders added at one end of a chain of three nodes reach the other end by
// pushes alone: no sync runs, nothing is announced or fetched (each node
// knows its neighbours hold what they pushed or were pushed).
func TestNewsCrossesAChain(t *testing.T) {
	hosts := testnet.New(t, 3, testnet.WithoutConnecting())
	testnet.Connect(t, hosts[0], hosts[1])
	testnet.Connect(t, hosts[1], hosts[2])
	nodes := make([]*newsNode, 3)
	for i, h := range hosts {
		// A loaded machine under the race detector may take seconds to
		// answer: this test is not about timeouts.
		nodes[i] = startNews(t, h, nil, nil, WithFetchTimeout(time.Minute))
	}
	waitSpeaksNews(t, hosts[0], hosts[1].ID())
	waitSpeaksNews(t, hosts[1], hosts[0].ID(), hosts[2].ID())
	sub := nodes[2].Store.Subscribe(0)
	defer sub.Close()
	orders := nodetest.Orders(300)
	for _, batch := range [][]int{{0, 1}, {1, 100}, {100, 300}} {
		if _, err := nodes[0].Store.AddOrders(context.Background(), orders[batch[0]:batch[1]]); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range nodes {
				t.Logf("node %d: held %d, %+v", i, n.Store.Len(), n.News.Stats())
			}
		}
	})
	waitHolds(t, nodes[2].Store, sub, hashesOf(t, orders)...)
	nodetest.SameOrders(t, nodes[1].Store, orders)
	for i, n := range nodes {
		if st := n.Service.Stats(); st.SyncsCompleted+st.SyncsFailed != 0 {
			t.Errorf("node %d ran %d syncs, want none", i, st.SyncsCompleted+st.SyncsFailed)
		}
	}
	if st := nodes[1].News.Stats(); st.Pushed != 300 || st.PushedIn != 300 || st.Announced != 0 {
		t.Errorf("middle node: %+v, want 300 pushed in, 300 pushed on (to the last node only), none announced", st)
	}
	if st := nodes[2].News.Stats(); st.PushedIn != 300 || st.Pushed != 0 || st.Announced != 0 || st.Fetched != 0 {
		t.Errorf("last node: %+v, want 300 pushed in and nothing sent (its one neighbour sent them)", st)
	}
	if st := nodes[1].Service.Stats(); st.OrdersNew != 300 || st.OrdersAccepted != 300 {
		t.Errorf("middle node's Stats: new %d, accepted %d, want 300 each", st.OrdersNew, st.OrdersAccepted)
	}
}

// New refuses a store it cannot follow or look orders up in, and options
// out of range, naming them.
func TestNewRefuses(t *testing.T) {
	h := testnet.NewHost(t)
	node := nodetest.StartNode(t, h, nil, nil, []string{reconcile.Name})
	hostNode := ordersync.NewHostNode(h)
	if _, err := New(t.Context(), node.Service, hostNode, plainStore{node.Store}, nil); err == nil || !strings.Contains(err.Error(), "change feed") {
		t.Errorf("a store without a feed: %v, want an error naming the change feed", err)
	}
	for _, opt := range []Option{WithBatchDelay(-1), WithLazyDelay(2 * time.Second), WithFetchTimeout(0), WithRate(0, 1), WithRate(1, 0), WithMaxFetches(0)} {
		if _, err := New(t.Context(), node.Service, hostNode, node.Store, nil, opt); err == nil {
			t.Error("an option out of range was taken")
		}
	}
}

// plainStore is a Store and nothing more.
type plainStore struct{ orderstore.Store }

// Closing a News ends its links, fetches and feed: a peer's announcement
// after it is turned away.
func TestCloseEndsEverything(t *testing.T) {
	hosts := testnet.New(t, 2)
	a := startNews(t, hosts[0], nil, nil)
	b := startNews(t, hosts[1], nil, nil)
	sub := b.Store.Subscribe(0)
	defer sub.Close()
	orders := nodetest.Orders(5)
	if _, err := a.Store.AddOrders(context.Background(), orders[:1]); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, b.Store, sub, hashesOf(t, orders[:1])...)
	if err := b.News.Close(); err != nil {
		t.Fatal(err)
	}
	_ = b.News.Close() // twice is fine
	if _, err := a.Store.AddOrders(context.Background(), orders[1:]); err != nil {
		t.Fatal(err)
	}
	if err := a.News.Close(); err != nil { // waits for a's announcement to be written or dropped
		t.Fatal(err)
	}
	if b.Store.Len() != 1 {
		t.Errorf("closed node holds %d orders, want 1", b.Store.Len())
	}
}

// A node taking in orders in bulk (a first sync) neither announces them
// nor fetches announced ones: its syncs carry them.
func TestBulkIsLeftToSyncs(t *testing.T) {
	hosts := testnet.New(t, 2)
	a := startNews(t, hosts[0], nil, nil, WithBulkRate(50))
	b := startNews(t, hosts[1], nil, nil, WithBulkRate(50))
	orders := nodetest.Orders(400)
	if _, err := a.Store.AddOrders(context.Background(), orders[:100]); err != nil {
		t.Fatal(err)
	}
	// a's own announcement loop reads the feed: once it counted the
	// orders as bulk it drops them.
	nodetest.WaitUntil(t, "the orders counted as bulk", func() bool { return a.News.Stats().Bulk == 100 })
	if st := a.News.Stats(); st.Announced != 0 {
		t.Errorf("announced %d in bulk, want none", st.Announced)
	}
	if b.Store.Len() != 0 {
		t.Errorf("the neighbour fetched %d, want none", b.Store.Len())
	}
}

// Orders a sync brings are the provider's, and most likely being synced by
// the node's other neighbours too: the Service tells the News which orders
// a sync stored, and the News neither pushes nor announces them. Before
// the hook, the middle node pushed all 300 whole to its other neighbour as
// its own new orders.
func TestSyncedOrdersAreNotPushed(t *testing.T) {
	hosts := testnet.New(t, 3, testnet.WithoutConnecting())
	testnet.Connect(t, hosts[0], hosts[1])
	testnet.Connect(t, hosts[1], hosts[2])
	orders := nodetest.Orders(300)
	provider := startNews(t, hosts[0], orders, nil)
	middle := startNews(t, hosts[1], nil, nil, WithFetchTimeout(time.Minute))
	last := startNews(t, hosts[2], nil, nil, WithFetchTimeout(time.Minute))
	if err := middle.Service.SyncPeer(t.Context(), hosts[0].ID()); err != nil {
		t.Fatal(err)
	}
	nodetest.SameOrders(t, middle.Store, orders)
	// Orders of the middle node's own after the sync's: they are pushed,
	// and reach the last node after the synced ones went through the feed.
	own := nodetest.Orders(310)[300:]
	sub := last.Store.Subscribe(0)
	defer sub.Close()
	if _, err := middle.Store.AddOrders(context.Background(), own); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, last.Store, sub, hashesOf(t, own)...)
	if st := middle.News.Stats(); st.Synced != 300 || st.Pushed != 20 || st.Announced != 0 {
		t.Errorf("middle node: %+v, want 300 synced, its own 10 pushed to each neighbour, nothing announced", st)
	}
	if st := last.News.Stats(); st.PushedIn != 10 || st.Received != 0 {
		t.Errorf("last node: %+v, want only the middle node's own 10 pushed in", st)
	}
	if st := provider.News.Stats(); st.Synced != 0 || st.PushedIn > 10 {
		t.Errorf("provider: %+v, want nothing synced, at most the middle node's own 10 pushed in", st)
	}
	if last.Store.Len() != 10 {
		t.Errorf("last node holds %d orders, want the 10 pushed", last.Store.Len())
	}
}
