package subprotocols_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// fakeClock is a clock a test sets.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Orders that expire during a run (by one injected clock and margin,
// shared by the stores and the Services) leave the requester's Memory
// once the clock is within the margin of their expiry, and no provider
// serves them afterwards, in pages or reconciliation, whether or not its
// store judges expiry itself.
func TestExpiredOrdersLeaveAndAreNeverServed(t *testing.T) {
	const margin = time.Hour
	orders := ordergen.Generate(ordergen.Options{Seed: 7, Count: 200})
	first := slices.MinFunc(orders, byExpiry)
	clock := &fakeClock{now: time.Unix(orderstore.ExpirationOf(first), 0).Add(-24 * time.Hour)}
	expiry := orderstore.Expiry{Now: clock.Now, Margin: margin}

	hosts := testnet.New(t, 5)
	start := func(h int, store *orderstore.Memory, names ...string) *ordersync.Service {
		node := ordersync.NewHostNode(hosts[h])
		var subs []ordersync.Subprotocol
		for _, name := range names {
			switch name {
			case v1:
				subs = append(subs, filteredpagination.New(store, nil, pagination.WithPeerScorer(node)))
			case v2:
				subs = append(subs, reconcile.New(store, nil, reconcile.WithPeerScorer(node)))
			}
		}
		return nodetest.StartService(t, node, subs, ordersync.WithExpiry(expiry))
	}
	expiring := func() *orderstore.Memory {
		m := orderstore.NewMemory(orderstore.WithExpiry(margin), orderstore.WithClock(clock.Now))
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fill := func(m *orderstore.Memory) *orderstore.Memory {
		if _, err := m.AddOrders(ctx, orders); err != nil {
			t.Fatal(err)
		}
		return m
	}
	provider := start(0, fill(expiring()), v2, v1)
	_ = provider
	// A provider whose store keeps whatever it is given.
	plain := start(1, fill(orderstore.NewMemory()), v1)
	_ = plain
	store := expiring()
	requester := start(2, store, v2, v1)
	if err := requester.SyncPeer(ctx, hosts[0].ID()); err != nil {
		t.Fatal(err)
	}
	nodetest.SameOrders(t, store, orders)

	// Half of the orders come within the margin of their expiry.
	sorted := slices.SortedFunc(slices.Values(orders), byExpiry)
	mid := orderstore.ExpirationOf(sorted[len(sorted)/2])
	clock.Set(time.Unix(mid, 0).Add(-margin))
	var live []*zeroex.SignedOrder
	for _, o := range orders {
		if orderstore.ExpirationOf(o) > mid {
			live = append(live, o)
		}
	}
	if len(live) == 0 || len(live) == len(orders) {
		t.Fatalf("%d of %d orders live: the test needs some of each", len(live), len(orders))
	}
	nodetest.SameOrders(t, store, live)

	// Fresh requesters, paging and reconciling, get only the live ones,
	// and are sent no expired order.
	for _, tc := range []struct {
		host     int
		provider int
		name     string
	}{{3, 0, v2}, {4, 1, v1}} {
		fresh := expiring()
		s := start(tc.host, fresh, tc.name)
		if err := s.SyncPeer(ctx, hosts[tc.provider].ID()); err != nil {
			t.Fatalf("%s from provider %d: %v", tc.name, tc.provider, err)
		}
		nodetest.SameOrders(t, fresh, live)
		if n := s.Stats().OrdersRejected[ordersync.RejectExpired]; n != 0 {
			t.Errorf("%s from provider %d: %d expired orders were served", tc.name, tc.provider, n)
		}
	}
}

func byExpiry(a, b *zeroex.SignedOrder) int {
	return int(orderstore.ExpirationOf(a) - orderstore.ExpirationOf(b))
}
