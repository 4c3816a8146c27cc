package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/testing/testnet"
)

// hostSyncOrders is how many orders TestHostSync moves into each store;
// 5 000 under the race detector.
func hostSyncOrders() int {
	if raceEnabled {
		return 5_000
	}
	return 100_000
}

// TestHostSync syncs 100 000 (under -race 5 000) signed orders from a provider host to a
// requester host into each store, over real libp2p streams on 127.0.0.1,
// then syncs again: the second time nothing is new.
func TestHostSync(t *testing.T) {
	if testing.Short() {
		t.Skip("signs and checks 100 000 orders per store")
	}
	n := hostSyncOrders()
	orders := ordergen.Generate(ordergen.Options{Seed: 14, Count: n})
	want := sortedHashes(t, orders)
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	orders = nil

	for _, tc := range []struct {
		name string
		open func(t *testing.T) orderstore.Store
	}{
		{"memory", func(*testing.T) orderstore.Store { return orderstore.NewMemory() }},
		{"sqlite", func(t *testing.T) orderstore.Store { return openSQLite(t) }},
		{"postgres", func(t *testing.T) orderstore.Store { return openPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := tc.open(t)
			hosts := testnet.New(t, 2)
			startSyncService(t, ordersync.NewHostNode(hosts[0]), providerStore)
			requester := startSyncService(t, ordersync.NewHostNode(hosts[1]), store)
			for round, wantNew := range []int64{int64(n), 0} {
				before := requester.Stats().OrdersNew
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				err := requester.GetOrders(ctx, 1)
				cancel()
				if err != nil {
					t.Fatalf("round %d: GetOrders: %v", round, err)
				}
				if got := requester.Stats().OrdersNew - before; got != wantNew {
					t.Fatalf("round %d: %d new orders, want %d", round, got, wantNew)
				}
			}
			if got := pageAllHashes(t, store); !slices.Equal(got, want) {
				t.Fatalf("the requester's store holds %d orders, not the provider's %d", len(got), len(want))
			}
		})
	}
}

// startSyncService runs a Service on h over store, without rate limits.
func startSyncService(t *testing.T, h ordersync.Node, store orderstore.Store) *ordersync.Service {
	return startService(t, h, filteredpagination.New(store, nil))
}

// startService runs a Service on h that offers only sub, without rate
// limits.
func startService(t *testing.T, h ordersync.Node, sub ordersync.Subprotocol) *ordersync.Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ordersync.New(ctx, h, []ordersync.Subprotocol{sub},
		ordersync.WithRateLimit(rate.Inf, 1),
		ordersync.WithPeerRateLimit(rate.Inf, 1),
		ordersync.WithBackoff(time.Millisecond, 20*time.Millisecond))
}
