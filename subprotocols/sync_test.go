package subprotocols_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

const (
	v1 = filteredpagination.Name
	v0 = ordinal.Name
	v2 = reconcile.Name
)

func TestSync10000Orders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requester []string
		provider  []string
		chosen    string
		orders    int
	}{
		{"v1 only", []string{v1}, []string{v1}, v1, 10_000},
		{"v0 only", []string{v0}, []string{v0}, v0, 10_000},
		{"both, v1 preferred", []string{v1, v0}, []string{v1, v0}, v1, 10_000},
		{"both, v0 preferred", []string{v0, v1}, []string{v1, v0}, v0, 10_000},
		// Negotiation is what this case is about; fewer orders will do.
		{"requester speaks only v0", []string{v0}, []string{v1, v0}, v0, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.orders
			if testing.Short() {
				n = min(n, 2000)
			}
			orders := nodetest.Orders(n)
			hosts := testnet.New(t, 2)
			provider := nodetest.StartNode(t, hosts[0], orders, nil, tc.provider)
			requester := nodetest.StartNode(t, hosts[1], nil, nil, tc.requester)
			requester.GetOrders(t, 1)

			nodetest.SameOrders(t, requester.Store, orders)
			ps := requester.Service.Stats().Providers[provider.Host.ID()]
			if ps.Subprotocol != tc.chosen {
				t.Errorf("synced with %q, want %q", ps.Subprotocol, tc.chosen)
			}
			// Full pages of 500 and the empty, complete one; in lanes
			// (ordersync.DefaultLanes), each lane but the last ends with
			// a page that runs into the next lane, whose orders there are
			// received twice and taken once.
			extra := int64(ordersync.DefaultLanes - 1)
			if want := int64(n/500 + 1); ps.Pages < want || ps.Pages > want+extra {
				t.Errorf("%d pages, want %d and at most %d more", ps.Pages, want, extra)
			}
			c := requester.Counts()
			if c.Received < int64(n) || c.Received > int64(n)+500*extra || c.Accepted != int64(n) || c.New != int64(n) {
				t.Errorf("counts %+v", c)
			}
			if got := nodetest.Tag(requester.Host, provider.Host.ID(), peerscore.ReceivedOrders); got != peerscore.ReceivedOrdersScore {
				t.Errorf("%s tag %d, want %d", peerscore.ReceivedOrders, got, peerscore.ReceivedOrdersScore)
			}
		})
	}
}

func TestFilteredSyncOverMostlyNonMatchingPages(t *testing.T) {
	orders := nodetest.Orders(5000)
	maker := orders[0].MakerAddress
	var matching []*zeroex.SignedOrder
	for _, o := range orders {
		if o.MakerAddress == maker {
			matching = append(matching, o)
		}
	}
	schema := fmt.Sprintf(`{"properties":{"makerAddress":{"const":%q}}}`, bytes.ToLower([]byte(maker.Hex())))
	filter, err := orderfilter.New(ordergen.DefaultChainID, schema, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{v1, v0} {
		t.Run(name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			// Pages of 100 over 5000 orders of which a tenth match: the
			// provider has to scan past most store pages.
			provider := nodetest.StartNode(t, hosts[0], orders, nil, []string{v1, v0}, pagination.WithPerPage(100))
			// One lane: the page count below is one lane's.
			requester := nodetest.StartNodeWith(t, hosts[1], nil, filter, []string{name}, []ordersync.Option{ordersync.WithLanes(1)})
			requester.GetOrders(t, 1)

			nodetest.SameOrders(t, requester.Store, matching)
			c := requester.Counts()
			if c.FilterMismatch != 0 || c.Accepted != int64(len(matching)) {
				t.Errorf("counts %+v, want %d accepted and no mismatch", c, len(matching))
			}
			pages := requester.Service.Stats().Providers[provider.Host.ID()].Pages
			if want := int64((len(matching)+99)/100 + 1); pages != want {
				t.Errorf("%d pages, want %d", pages, want)
			}
		})
	}
}

func TestOrdersAddedAndRemovedDuringSync(t *testing.T) {
	all := nodetest.Orders(4000)
	initial, later := all[:3000], all[3000:]
	// Half of the initial orders go away during the sync: one in three of
	// them, chosen by hash, so that removals fall before and after the
	// requester's cursor.
	removed := make(map[common.Hash]bool)
	for i, o := range initial {
		if i%3 == 0 {
			h, _ := o.ComputeOrderHash()
			removed[h] = true
		}
	}

	for _, name := range []string{v1, v0} {
		t.Run(name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			provider := nodetest.StartNode(t, hosts[0], initial, nil, []string{v1, v0}, pagination.WithPerPage(100))
			var churn sync.Once
			onPage := func(peer.ID, []*zeroex.SignedOrder) {
				// After the requester's first page, the provider's book
				// changes under the running sync.
				churn.Do(func() {
					gone := make([]common.Hash, 0, len(removed))
					for h := range removed {
						gone = append(gone, h)
					}
					if _, err := provider.Store.Remove(context.Background(), gone...); err != nil {
						t.Error(err)
					}
					if _, err := provider.Store.AddOrders(context.Background(), later); err != nil {
						t.Error(err)
					}
				})
			}
			requester := nodetest.StartNode(t, hosts[1], nil, nil, []string{name}, pagination.WithOnAccepted(onPage))
			requester.GetOrders(t, 1)

			existed := nodetest.HashSet(t, all)
			for _, h := range nodetest.Hashes(t, requester.Store) {
				if !existed[h] {
					t.Fatalf("requester holds %s, which never existed", h)
				}
			}
			for _, o := range initial {
				h, _ := o.ComputeOrderHash()
				if !removed[h] && !requester.Store.Has(h) {
					t.Fatalf("requester lacks %s, which the provider held throughout", h)
				}
			}
			if requester.Store.Len() >= len(all) {
				t.Fatalf("requester holds %d orders: removals had no effect", requester.Store.Len())
			}
		})
	}
}

func TestHostileProviderIsCountedAndScored(t *testing.T) {
	orders := nodetest.Orders(2000)
	banned := orders[0].MakerAddress
	schema := fmt.Sprintf(`{"not":{"properties":{"makerAddress":{"const":%q}}}}`, bytes.ToLower([]byte(banned.Hex())))
	filter, err := orderfilter.New(ordergen.DefaultChainID, schema, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}

	hosts := testnet.New(t, 2)
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	hostile := &nodetest.Tamperer{
		Subprotocol:       filteredpagination.New(providerStore, nil),
		IgnoreFilter:      true,
		BadSignatureEvery: 7,
	}
	nodetest.StartService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{hostile})
	// One lane: which orders are spoiled depends on where pages start.
	requester := nodetest.StartNodeWith(t, hosts[1], nil, filter, []string{v1}, []ordersync.Option{ordersync.WithLanes(1)})
	requester.GetOrders(t, 1)

	// What the requester should have kept: unspoiled orders of allowed
	// makers. Spoiled ones are every 7th of each page of 500.
	sorted := slices.Clone(orders)
	slices.SortFunc(sorted, func(a, b *zeroex.SignedOrder) int {
		ha, _ := a.ComputeOrderHash()
		hb, _ := b.ComputeOrderHash()
		return bytes.Compare(ha[:], hb[:])
	})
	var want []*zeroex.SignedOrder
	var spoiled, mismatched int64
	for i, o := range sorted {
		switch {
		case (i%500)%7 == 0:
			spoiled++
		case o.MakerAddress == banned:
			mismatched++
		default:
			want = append(want, o)
		}
	}
	nodetest.SameOrders(t, requester.Store, want)
	c := requester.Counts()
	if c.BadSignature != spoiled || c.FilterMismatch != mismatched || c.Accepted != int64(len(want)) || c.Received != 2000 {
		t.Errorf("counts %+v; want %d bad signatures, %d mismatches, %d accepted", c, spoiled, mismatched, len(want))
	}
	p := hosts[0].ID()
	if got := nodetest.Tag(requester.Host, p, peerscore.OrderDoesNotMatchFilter); got != peerscore.OrderDoesNotMatchFilterScore {
		t.Errorf("%s tag = %d", peerscore.OrderDoesNotMatchFilter, got)
	}
	// One step per page that held a bad signature: 4 pages of 500.
	if got := nodetest.Tag(requester.Host, p, peerscore.InvalidOrderSignature); got != 4*peerscore.InvalidOrderSignatureDelta {
		t.Errorf("%s tag = %d", peerscore.InvalidOrderSignature, got)
	}
}

func TestResumeAfterDroppedStream(t *testing.T) {
	orders := nodetest.Orders(3000)
	for _, name := range []string{v1, v0} {
		t.Run(name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			providerStore := orderstore.NewMemory()
			if _, err := providerStore.AddOrders(context.Background(), orders); err != nil {
				t.Fatal(err)
			}
			var inner ordersync.Subprotocol = filteredpagination.New(providerStore, nil, pagination.WithPerPage(200))
			if name == v0 {
				inner = ordinal.New(providerStore, nil, pagination.WithPerPage(200))
			}
			flaky := &nodetest.Tamperer{Subprotocol: inner, FailAfter: 6}
			nodetest.StartService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{flaky})
			const lanes = 4
			requester := nodetest.StartNodeWith(t, hosts[1], nil, nil, []string{name}, []ordersync.Option{ordersync.WithLanes(lanes)})
			requester.GetOrders(t, 1)

			nodetest.SameOrders(t, requester.Store, orders)
			// Resumed, not restarted: no order came twice but those of
			// the pages that end lanes (at most a page each; starting
			// over would send the 6 pages before the drop again).
			c := requester.Counts()
			if c.Received > 3000+200*(lanes-1) || c.Accepted != 3000 || c.New != 3000 {
				t.Errorf("counts %+v: orders were sent twice", c)
			}
			if !flaky.Failed() {
				t.Fatal("the stream was never dropped")
			}
		})
	}
}

func TestSyncWithSeveralProvidersAtOnce(t *testing.T) {
	all := nodetest.Orders(4000)
	hosts := testnet.New(t, 4)
	// Providers hold overlapping thirds: [0,2000), [1000,3000), [2000,4000).
	for i := 0; i < 3; i++ {
		nodetest.StartNode(t, hosts[i], all[i*1000:i*1000+2000], nil, []string{v1, v0})
	}
	requester := nodetest.StartNode(t, hosts[3], nil, nil, []string{v1, v0})
	requester.GetOrders(t, 3)

	nodetest.SameOrders(t, requester.Store, all)
	c := requester.Counts()
	if c.Accepted != 6000 || c.New != 4000 {
		t.Errorf("counts %+v: want 6000 accepted, 4000 new", c)
	}
}
