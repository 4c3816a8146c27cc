package ordersync_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// held reports whether store holds o.
func held(t *testing.T, store *orderstore.Memory, o *zeroex.SignedOrder) bool {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return store.Has(h)
}

// The README's set-up with one peer connected: an order that peer gets
// later arrives by the second round, however many peers GetOrders's
// minPeers would have waited for. The test drives the rounds through the
// Service's timer: each wait between rounds is a step it takes.
func TestPeriodicallySyncNeighborsWithOnePeer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	orders := signedOrders(2)
	hosts := testnet.New(t, 2)
	start := func(h int, store *orderstore.Memory, opts ...ordersync.Option) *ordersync.Service {
		node := ordersync.NewHostNode(hosts[h])
		subs := []ordersync.Subprotocol{
			reconcile.New(store, nil, reconcile.WithPeerScorer(node)),
			filteredpagination.New(store, nil, pagination.WithPeerScorer(node)),
		}
		s := ordersync.New(ctx, node, subs, opts...)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, orders[:1]); err != nil {
		t.Fatal(err)
	}
	start(0, providerStore)

	waits := make(chan chan time.Time)
	timer := func(time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		waits <- ch
		return ch
	}
	store := orderstore.NewMemory()
	requester := start(1, store, ordersync.WithTimer(timer))
	done := make(chan error, 1)
	go func() { done <- requester.PeriodicallySyncNeighbors(ctx, 10*time.Minute) }()

	wait := <-waits // the first round has ended
	if !held(t, store, orders[0]) {
		t.Fatal("the first round did not get the peer's order")
	}
	if _, err := providerStore.AddOrders(ctx, orders[1:]); err != nil {
		t.Fatal(err)
	}
	wait <- time.Now()
	<-waits // the second round has ended
	if !held(t, store, orders[1]) {
		t.Fatalf("the second round did not get the order the peer got later (stats %+v)", requester.Stats())
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("PeriodicallySyncNeighbors returned nil when its context ended")
	}
}
