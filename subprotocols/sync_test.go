package subprotocols_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

const (
	v1 = filteredpagination.Name
	v0 = ordinal.Name
	v2 = reconcile.Name
)

// generated caches ordergen's orders across tests: signing is the slow part.
var generated struct {
	once   sync.Once
	orders []*zeroex.SignedOrder
}

// testOrders returns the first n of a fixed set of 10 000 signed orders.
func testOrders(n int) []*zeroex.SignedOrder {
	generated.once.Do(func() {
		generated.orders = ordergen.Generate(ordergen.Options{Seed: 42, Count: 10_000})
	})
	return generated.orders[:n]
}

// node is one ordersync node of a test: a host, its store and its Service.
type node struct {
	host    host.Host
	store   *orderstore.Memory
	service *ordersync.Service
}

// orderCounts are the counts of a node's Stats that the requester
// pipeline moves.
type orderCounts struct {
	Received, Accepted, New, BadSignature, FilterMismatch int64
}

func (n *node) counts() orderCounts {
	st := n.service.Stats()
	return orderCounts{
		Received: st.OrdersReceived, Accepted: st.OrdersAccepted, New: st.OrdersNew,
		BadSignature:   st.OrdersRejected[ordersync.RejectBadSignature],
		FilterMismatch: st.OrdersRejected[ordersync.RejectFilterMismatch],
	}
}

// startNode runs a Service on h over a new store holding orders, speaking
// the named subprotocols in that order of preference.
func startNode(t *testing.T, h host.Host, orders []*zeroex.SignedOrder, filter *orderfilter.Filter, names []string, opts ...pagination.Option) *node {
	t.Helper()
	return startNodeWith(t, h, orders, filter, names, nil, opts...)
}

// startNodeWith is startNode with options for the Service, on top of
// startService's.
func startNodeWith(t *testing.T, h host.Host, orders []*zeroex.SignedOrder, filter *orderfilter.Filter, names []string, serviceOpts []ordersync.Option, opts ...pagination.Option) *node {
	t.Helper()
	n := &node{host: h, store: orderstore.NewMemory()}
	if _, err := n.store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	hostNode := ordersync.NewHostNode(h)
	opts = append([]pagination.Option{pagination.WithPeerScorer(hostNode)}, opts...)
	subs := make([]ordersync.Subprotocol, len(names))
	for i, name := range names {
		switch name {
		case v1:
			subs[i] = filteredpagination.New(n.store, filter, opts...)
		case v0:
			subs[i] = ordinal.New(n.store, filter, opts...)
		case v2:
			subs[i] = reconcile.New(n.store, filter, reconcile.WithPeerScorer(hostNode), reconcile.WithPagination(opts...))
		default:
			t.Fatalf("unknown subprotocol %q", name)
		}
	}
	n.service = startService(t, hostNode, subs, serviceOpts...)
	return n
}

func startService(t *testing.T, n ordersync.Node, subs []ordersync.Subprotocol, opts ...ordersync.Option) *ordersync.Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ordersync.New(ctx, n, subs, append([]ordersync.Option{
		ordersync.WithRateLimit(rate.Inf, 1),
		ordersync.WithPeerRateLimit(rate.Inf, 1),
		ordersync.WithBackoff(time.Millisecond, 20*time.Millisecond)}, opts...)...)
}

// getOrders runs one GetOrders from n with a generous bound: a hang fails
// the test instead of timing it out.
func (n *node) getOrders(t *testing.T, minPeers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.service.GetOrders(ctx, minPeers); err != nil {
		t.Fatalf("GetOrders: %v (stats %+v)", err, n.service.Stats())
	}
}

// hashes returns the hashes a store holds, ascending.
func hashes(t *testing.T, s *orderstore.Memory) []common.Hash {
	t.Helper()
	var out []common.Hash
	err := s.Each(context.Background(), func(h common.Hash, _ *zeroex.SignedOrder) bool {
		out = append(out, h)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hashSet(t *testing.T, orders []*zeroex.SignedOrder) map[common.Hash]bool {
	t.Helper()
	set := make(map[common.Hash]bool, len(orders))
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		set[h] = true
	}
	return set
}

// sameOrders fails unless the requester's store holds exactly want.
func sameOrders(t *testing.T, got *orderstore.Memory, want []*zeroex.SignedOrder) {
	t.Helper()
	wantSet := hashSet(t, want)
	gotHashes := hashes(t, got)
	if len(gotHashes) != len(wantSet) {
		t.Fatalf("store holds %d orders, want %d", len(gotHashes), len(wantSet))
	}
	for _, h := range gotHashes {
		if !wantSet[h] {
			t.Fatalf("store holds %s, which it should not", h)
		}
	}
}

func tag(h host.Host, p peer.ID, name string) int {
	info := h.ConnManager().GetTagInfo(p)
	if info == nil {
		return 0
	}
	return info.Tags[name]
}

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
			orders := testOrders(n)
			hosts := testnet.New(t, 2)
			provider := startNode(t, hosts[0], orders, nil, tc.provider)
			requester := startNode(t, hosts[1], nil, nil, tc.requester)
			requester.getOrders(t, 1)

			sameOrders(t, requester.store, orders)
			ps := requester.service.Stats().Providers[provider.host.ID()]
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
			c := requester.counts()
			if c.Received < int64(n) || c.Received > int64(n)+500*extra || c.Accepted != int64(n) || c.New != int64(n) {
				t.Errorf("counts %+v", c)
			}
			if got := tag(requester.host, provider.host.ID(), peerscore.ReceivedOrders); got != peerscore.ReceivedOrdersScore {
				t.Errorf("%s tag %d, want %d", peerscore.ReceivedOrders, got, peerscore.ReceivedOrdersScore)
			}
		})
	}
}

func TestFilteredSyncOverMostlyNonMatchingPages(t *testing.T) {
	orders := testOrders(5000)
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
			provider := startNode(t, hosts[0], orders, nil, []string{v1, v0}, pagination.WithPerPage(100))
			// One lane: the page count below is one lane's.
			requester := startNodeWith(t, hosts[1], nil, filter, []string{name}, []ordersync.Option{ordersync.WithLanes(1)})
			requester.getOrders(t, 1)

			sameOrders(t, requester.store, matching)
			c := requester.counts()
			if c.FilterMismatch != 0 || c.Accepted != int64(len(matching)) {
				t.Errorf("counts %+v, want %d accepted and no mismatch", c, len(matching))
			}
			pages := requester.service.Stats().Providers[provider.host.ID()].Pages
			if want := int64((len(matching)+99)/100 + 1); pages != want {
				t.Errorf("%d pages, want %d", pages, want)
			}
		})
	}
}

func TestOrdersAddedAndRemovedDuringSync(t *testing.T) {
	all := testOrders(4000)
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
			provider := startNode(t, hosts[0], initial, nil, []string{v1, v0}, pagination.WithPerPage(100))
			var churn sync.Once
			onPage := func(peer.ID, []*zeroex.SignedOrder) {
				// After the requester's first page, the provider's book
				// changes under the running sync.
				churn.Do(func() {
					gone := make([]common.Hash, 0, len(removed))
					for h := range removed {
						gone = append(gone, h)
					}
					if _, err := provider.store.Remove(context.Background(), gone...); err != nil {
						t.Error(err)
					}
					if _, err := provider.store.AddOrders(context.Background(), later); err != nil {
						t.Error(err)
					}
				})
			}
			requester := startNode(t, hosts[1], nil, nil, []string{name}, pagination.WithOnAccepted(onPage))
			requester.getOrders(t, 1)

			existed := hashSet(t, all)
			for _, h := range hashes(t, requester.store) {
				if !existed[h] {
					t.Fatalf("requester holds %s, which never existed", h)
				}
			}
			for _, o := range initial {
				h, _ := o.ComputeOrderHash()
				if !removed[h] && !requester.store.Has(h) {
					t.Fatalf("requester lacks %s, which the provider held throughout", h)
				}
			}
			if requester.store.Len() >= len(all) {
				t.Fatalf("requester holds %d orders: removals had no effect", requester.store.Len())
			}
		})
	}
}

// tamperer wraps a provider's subprotocol and spoils its answers.
type tamperer struct {
	ordersync.Subprotocol
	// ignoreFilter makes the provider answer as if the request had no
	// filter.
	ignoreFilter bool
	// badSignatureEvery spoils the signature of every nth order.
	badSignatureEvery int
	// failAfter makes the provider close the stream without answering
	// (once) after it has answered that many requests; 0 never.
	failAfter int

	mu     sync.Mutex
	served int
	failed bool
}

func (tp *tamperer) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	tp.mu.Lock()
	if tp.failAfter > 0 && tp.served == tp.failAfter && !tp.failed {
		tp.failed = true
		tp.mu.Unlock()
		return nil, fmt.Errorf("tamperer: dropping the stream after %d responses", tp.failAfter)
	}
	tp.served++
	tp.mu.Unlock()

	if tp.ignoreFilter {
		switch md := req.Metadata.(type) {
		case *filteredpagination.RequestMetadata:
			c := *md
			c.OrderFilter = nil
			req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &c}
		case *ordinal.RequestMetadata:
			c := *md
			c.OrderFilter = nil
			req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &c}
		}
	}
	res, err := tp.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err != nil || tp.badSignatureEvery == 0 {
		return res, err
	}
	orders := slices.Clone(res.Orders)
	for i := 0; i < len(orders); i += tp.badSignatureEvery {
		spoiled := &zeroex.SignedOrder{Order: orders[i].Order, Signature: slices.Clone(orders[i].Signature)}
		spoiled.ResetHash()
		spoiled.Signature[1] ^= 0xff // r changes: another signer, or none
		orders[i] = spoiled
	}
	res.Orders = orders
	return res, nil
}

func TestHostileProviderIsCountedAndScored(t *testing.T) {
	orders := testOrders(2000)
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
	hostile := &tamperer{
		Subprotocol:       filteredpagination.New(providerStore, nil),
		ignoreFilter:      true,
		badSignatureEvery: 7,
	}
	startService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{hostile})
	// One lane: which orders are spoiled depends on where pages start.
	requester := startNodeWith(t, hosts[1], nil, filter, []string{v1}, []ordersync.Option{ordersync.WithLanes(1)})
	requester.getOrders(t, 1)

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
	sameOrders(t, requester.store, want)
	c := requester.counts()
	if c.BadSignature != spoiled || c.FilterMismatch != mismatched || c.Accepted != int64(len(want)) || c.Received != 2000 {
		t.Errorf("counts %+v; want %d bad signatures, %d mismatches, %d accepted", c, spoiled, mismatched, len(want))
	}
	p := hosts[0].ID()
	if got := tag(requester.host, p, peerscore.OrderDoesNotMatchFilter); got != peerscore.OrderDoesNotMatchFilterScore {
		t.Errorf("%s tag = %d", peerscore.OrderDoesNotMatchFilter, got)
	}
	// One step per page that held a bad signature: 4 pages of 500.
	if got := tag(requester.host, p, peerscore.InvalidOrderSignature); got != 4*peerscore.InvalidOrderSignatureDelta {
		t.Errorf("%s tag = %d", peerscore.InvalidOrderSignature, got)
	}
}

func TestResumeAfterDroppedStream(t *testing.T) {
	orders := testOrders(3000)
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
			flaky := &tamperer{Subprotocol: inner, failAfter: 6}
			startService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{flaky})
			const lanes = 4
			requester := startNodeWith(t, hosts[1], nil, nil, []string{name}, []ordersync.Option{ordersync.WithLanes(lanes)})
			requester.getOrders(t, 1)

			sameOrders(t, requester.store, orders)
			// Resumed, not restarted: no order came twice but those of
			// the pages that end lanes (at most a page each; starting
			// over would send the 6 pages before the drop again).
			c := requester.counts()
			if c.Received > 3000+200*(lanes-1) || c.Accepted != 3000 || c.New != 3000 {
				t.Errorf("counts %+v: orders were sent twice", c)
			}
			if !flaky.failed {
				t.Fatal("the stream was never dropped")
			}
		})
	}
}

func TestSyncWithSeveralProvidersAtOnce(t *testing.T) {
	all := testOrders(4000)
	hosts := testnet.New(t, 4)
	// Providers hold overlapping thirds: [0,2000), [1000,3000), [2000,4000).
	for i := 0; i < 3; i++ {
		startNode(t, hosts[i], all[i*1000:i*1000+2000], nil, []string{v1, v0})
	}
	requester := startNode(t, hosts[3], nil, nil, []string{v1, v0})
	requester.getOrders(t, 3)

	sameOrders(t, requester.store, all)
	c := requester.counts()
	if c.Accepted != 6000 || c.New != 4000 {
		t.Errorf("counts %+v: want 6000 accepted, 4000 new", c)
	}
}
