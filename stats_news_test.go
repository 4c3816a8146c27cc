package ordersync_test

import (
	"context"
	"testing"

	"github.com/ordersync/ordersync/subprotocols/news"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A peer that this node syncs with also sends it news: its ProviderStats
// keep the sync's subprotocol, and count what news took in apart. Before,
// news's fetches overwrote the subprotocol with "news".
func TestStatsKeepTheSyncsSubprotocol(t *testing.T) {
	hosts := testnet.New(t, 2)
	orders := nodetest.Orders(3)
	provider := startNewsVictim(t, hosts[0], orders[:2], nil)
	requester := startNewsVictim(t, hosts[1], nil, nil)
	if err := requester.Service.SyncPeer(t.Context(), hosts[0].ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Store.AddOrders(context.Background(), orders[2:]); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitUntil(t, "the new order taken in by news", func() bool {
		st := requester.news.Stats()
		return st.Fetched+st.PushedIn == 1 // pushed whole, or announced and fetched
	})
	nodetest.WaitUntil(t, "news's page counted", func() bool {
		return requester.Service.Stats().Providers[hosts[0].ID()].CompanionPages == 1
	})
	ps := requester.Service.Stats().Providers[hosts[0].ID()]
	if ps.Subprotocol != reconcile.Name {
		t.Errorf("Subprotocol %q, want the sync's %q", ps.Subprotocol, reconcile.Name)
	}
	if ps.Orders != 2 || ps.CompanionOrders != 1 {
		t.Errorf("Orders %d, CompanionOrders %d: want 2 from the sync and 1 from %s", ps.Orders, ps.CompanionOrders, news.Name)
	}
}
