package ordersync_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A sync's orders are reported to OnSynced's functions with their
// provider, before the store holds them (so before its change feed shows
// them), whichever subprotocol synced them; after stop, nothing is.
func TestOnSyncedReportsASyncsOrders(t *testing.T) {
	for _, name := range []string{reconcile.Name, filteredpagination.Name} {
		t.Run(name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			orders := nodetest.Orders(700)
			provider := nodetest.StartNode(t, hosts[0], orders[:600], nil, []string{name})
			requester := nodetest.StartNode(t, hosts[1], orders[:50], nil, []string{name})
			var mu sync.Mutex
			reported := map[common.Hash]bool{}
			var wrong []string
			heldAlready := nodetest.HashSet(t, orders[:50]) // a page may bring them again
			stop := requester.Service.Validation().OnSynced(func(p peer.ID, hashes []common.Hash) {
				mu.Lock()
				defer mu.Unlock()
				if p != hosts[0].ID() {
					wrong = append(wrong, "a provider "+p.String())
				}
				for _, h := range hashes {
					if requester.Store.Has(h) && !heldAlready[h] {
						wrong = append(wrong, "an order reported after it was stored")
					}
					reported[h] = true
				}
			})
			if err := requester.Service.SyncPeer(t.Context(), hosts[0].ID()); err != nil {
				t.Fatal(err)
			}
			nodetest.SameOrders(t, requester.Store, orders[:600])
			stop()
			stop() // twice is harmless
			if _, err := provider.Store.AddOrders(context.Background(), orders[600:]); err != nil {
				t.Fatal(err)
			}
			if err := requester.Service.SyncPeer(t.Context(), hosts[0].ID()); err != nil {
				t.Fatal(err)
			}
			nodetest.SameOrders(t, requester.Store, orders)
			mu.Lock()
			defer mu.Unlock()
			if len(wrong) > 0 {
				t.Errorf("%d wrong reports, the first: %s", len(wrong), wrong[0])
			}
			for h := range nodetest.HashSet(t, orders[50:600]) {
				if !reported[h] {
					t.Fatalf("an order the sync stored was not reported (%d of 550 were)", len(reported))
				}
			}
			for h := range nodetest.HashSet(t, orders[600:]) {
				if reported[h] {
					t.Fatal("an order synced after stop was reported")
				}
			}
		})
	}
}
