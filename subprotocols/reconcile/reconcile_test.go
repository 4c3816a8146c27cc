package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/riblt"
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

// The subprotocols' wire names, as the tests list them.
const (
	v1 = filteredpagination.Name
	v0 = ordinal.Name
	v2 = reconcile.Name
)

var all3 = []string{v2, v1, v0}

func defaultFilter(t *testing.T) *orderfilter.Filter {
	t.Helper()
	f, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReconcileNegotiation: a requester with all three subprotocols
// against providers with all three, with v1 and v0, and with v0 only.
func TestReconcileNegotiation(t *testing.T) {
	orders := nodetest.Orders(1200)
	for _, tc := range []struct {
		provider []string
		chosen   string
	}{{all3, v2}, {[]string{v1, v0}, v1}, {[]string{v0}, v0}} {
		t.Run(tc.chosen, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			provider := nodetest.StartNode(t, hosts[0], orders, nil, tc.provider)
			requester := nodetest.StartNode(t, hosts[1], orders[:1100], nil, all3)
			requester.GetOrders(t, 1)
			nodetest.SameOrders(t, requester.Store, orders)
			if got := requester.Service.Stats().Providers[provider.Host.ID()].Subprotocol; got != tc.chosen {
				t.Errorf("chose %q, want %q", got, tc.chosen)
			}
		})
	}
}

// TestReconcileRandomDifferences: random sets with d from 0 to n on either
// side; the requester ends with the union and sends nothing of its own.
func TestReconcileRandomDifferences(t *testing.T) {
	const n = 2000
	orders := nodetest.Orders(2 * n)
	filter := defaultFilter(t)
	r := rand.New(rand.NewPCG(7, 7))
	type tcase struct {
		name                    string
		provMissing, reqMissing int
	}
	cases := []tcase{{"in sync", 0, 0}, {"1 missing", 0, 1}, {"10 missing", 0, 10}, {"requester has 10 more", 10, 0},
		{"both ways 100", 100, 100}, {"half missing", 0, n / 2}, {"requester empty", 0, n}, {"provider empty", n, 0},
		{"requester nearly empty", 0, n - 150}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := orders[:n]
			perm := r.Perm(n)
			var provSet, reqSet []*zeroex.SignedOrder
			for i, j := range perm {
				o := base[j]
				if i >= tc.provMissing {
					provSet = append(provSet, o)
				}
				if i < tc.provMissing || i >= tc.provMissing+tc.reqMissing {
					reqSet = append(reqSet, o)
				}
			}
			hosts := testnet.New(t, 2)
			provider := nodetest.StartNode(t, hosts[0], provSet, filter, all3)
			var serviceOpts []ordersync.Option
			if len(provSet) == 0 {
				// GetOrders would try an empty provider again until its
				// context ended, perhaps in the middle of a sync: one
				// round, then ErrTooFewPeers.
				serviceOpts = append(serviceOpts, ordersync.WithBackoffFactory(func() backoff.BackOff { return &backoff.StopBackOff{} }))
			}
			requester := nodetest.StartNodeWith(t, hosts[1], reqSet, filter, all3, serviceOpts)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := requester.Service.GetOrders(ctx, 1)
			ps := requester.Service.Stats().Providers[provider.Host.ID()]
			if len(provSet) == 0 {
				if !errors.Is(err, ordersync.ErrTooFewPeers) || ps.LastError != ordersync.ErrNoOrdersFromPeer.Error() {
					t.Fatalf("empty provider: err %v, last error %q; want ErrTooFewPeers and %q", err, ps.LastError, ordersync.ErrNoOrdersFromPeer)
				}
			} else if err != nil {
				t.Fatalf("GetOrders: %v (%+v)", err, ps)
			}
			want := append(append([]*zeroex.SignedOrder{}, reqSet...), provSet...)
			nodetest.SameOrders(t, requester.Store, dedupe(t, want))
			if provider.Store.Len() != len(provSet) {
				t.Fatalf("provider holds %d orders, want its own %d", provider.Store.Len(), len(provSet))
			}
			if ps.Subprotocol != v2 {
				t.Errorf("synced with %q", ps.Subprotocol)
			}
			st := requester.Service.Stats()
			t.Logf("pages %d, orders received %d, bytes read %d, written %d", ps.Pages, requester.Counts().Received, st.BytesRead, st.BytesWritten)
		})
	}
}

func dedupe(t *testing.T, orders []*zeroex.SignedOrder) []*zeroex.SignedOrder {
	seen := nodetest.HashSet(t, nil)
	var out []*zeroex.SignedOrder
	for _, o := range orders {
		h, _ := o.ComputeOrderHash()
		if !seen[h] {
			seen[h] = true
			out = append(out, o)
		}
	}
	return out
}

// startReconcileProvider runs a provider whose only subprotocol is sub
// (over store), wrapped by wrap when given.
func startReconcileProvider(t *testing.T, h host.Host, store *orderstore.Memory, wrap func(ordersync.Subprotocol) ordersync.Subprotocol) {
	t.Helper()
	var sub ordersync.Subprotocol = reconcile.New(store, nil, reconcile.WithPagination(pagination.WithPerPage(200)))
	if wrap != nil {
		sub = wrap(sub)
	}
	nodetest.StartService(t, ordersync.NewHostNode(h), []ordersync.Subprotocol{sub})
}

func memoryWith(t *testing.T, orders []*zeroex.SignedOrder) *orderstore.Memory {
	t.Helper()
	m := orderstore.NewMemory()
	if _, err := m.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReconcileCustomFilter: a requester with a filter that is not trivial
// reconciles by scanning on both sides and gets exactly the matching
// orders it lacks.
func TestReconcileCustomFilter(t *testing.T) {
	orders := nodetest.Orders(3000)
	maker := orders[0].MakerAddress
	schema := fmt.Sprintf(`{"properties":{"makerAddress":{"const":%q}}}`, bytes.ToLower([]byte(maker.Hex())))
	filter, err := orderfilter.New(ordergen.DefaultChainID, schema, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	var matching []*zeroex.SignedOrder
	for _, o := range orders {
		if o.MakerAddress == maker {
			matching = append(matching, o)
		}
	}
	hosts := testnet.New(t, 2)
	// A budget that the race detector's slow filter runs fit in.
	nodetest.StartService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{
		reconcile.New(memoryWith(t, orders), nil, reconcile.WithMaxScan(0, time.Minute))})
	requester := nodetest.StartNode(t, hosts[1], matching[:len(matching)-20], filter, all3)
	requester.GetOrders(t, 1)
	nodetest.SameOrders(t, requester.Store, matching)
	if c := requester.Counts(); c.Received != 20 {
		t.Errorf("received %d orders, want the 20 missing", c.Received)
	}
}

// TestReconcileOrdersChangeDuringSync: orders added and removed on the
// provider while the requester fetches. It ends with every order the
// provider held throughout and nothing that never existed.
func TestReconcileOrdersChangeDuringSync(t *testing.T) {
	all := nodetest.Orders(3000)
	initial, later := all[:2000], all[2000:]
	removed := make(map[common.Hash]bool)
	for i, o := range initial {
		if i%3 == 0 {
			h, _ := o.ComputeOrderHash()
			removed[h] = true
		}
	}
	hosts := testnet.New(t, 2)
	provider := nodetest.StartNode(t, hosts[0], initial, nil, all3)
	var churn sync.Once
	onPage := func(peer.ID, []*zeroex.SignedOrder) {
		churn.Do(func() {
			var gone []common.Hash
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
	// The requester holds a fifth of the orders: it fetches the rest in
	// pages of 500, and the provider changes after the first.
	requester := nodetest.StartNode(t, hosts[1], initial[:400], nil, all3, pagination.WithOnAccepted(onPage))
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
	// The next round brings the orders added meanwhile.
	requester.GetOrders(t, 1)
	for _, o := range later {
		h, _ := o.ComputeOrderHash()
		if !requester.Store.Has(h) {
			t.Fatalf("second round: requester lacks %s, added before it started", h)
		}
	}
}

// TestReconcileResumesFetch: the provider drops the stream in the fetch
// phase; the sync resumes there and no order comes twice.
func TestReconcileResumesFetch(t *testing.T) {
	orders := nodetest.Orders(3000)
	hosts := testnet.New(t, 2)
	var flaky *nodetest.Tamperer
	startReconcileProvider(t, hosts[0], memoryWith(t, orders), func(s ordersync.Subprotocol) ordersync.Subprotocol {
		flaky = &nodetest.Tamperer{Subprotocol: s, FailAfter: 3}
		return flaky
	})
	requester := nodetest.StartNode(t, hosts[1], orders[:1000], nil, all3)
	requester.GetOrders(t, 1)
	nodetest.SameOrders(t, requester.Store, orders)
	if c := requester.Counts(); c.Received != 2000 || c.New != 2000 {
		t.Errorf("counts %+v: orders came twice", c)
	}
	if !flaky.Failed() {
		t.Fatal("the stream was never dropped")
	}
}

// TestReconcileRejectedNotFetchedAgain: orders with bad signatures are
// fetched once; the next round reconciles them as held with that provider
// and fetches nothing, but does not count the provider as synced: it
// holds orders the requester lacks and only ever sends them spoiled.
func TestReconcileRejectedNotFetchedAgain(t *testing.T) {
	orders := nodetest.Orders(1000)
	hosts := testnet.New(t, 2)
	startReconcileProvider(t, hosts[0], memoryWith(t, orders), func(s ordersync.Subprotocol) ordersync.Subprotocol {
		return &nodetest.Tamperer{Subprotocol: s, BadSignatureEvery: 5}
	})
	oneRound := ordersync.WithBackoffFactory(func() backoff.BackOff { return &backoff.StopBackOff{} })
	requester := nodetest.StartNodeWith(t, hosts[1], orders[:900], nil, all3, []ordersync.Option{oneRound})
	requester.GetOrders(t, 1)
	first := requester.Counts()
	if first.Received != 100 || first.BadSignature != 20 {
		t.Fatalf("first round: counts %+v, want 100 received and 20 bad", first)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := requester.Service.GetOrders(ctx, 1); err == nil {
		t.Fatal("second round: the provider of the spoiled copies counts as synced")
	}
	if again := requester.Counts(); again.Received != first.Received {
		t.Fatalf("second round fetched %d orders again", again.Received-first.Received)
	}
}

// forger answers sketch requests with symbols of another set than the one
// its digest describes, fetches with other orders, or never delivers.
type forger struct {
	ordersync.Subprotocol
	symbolsOf []riblt.Item // the set whose symbols it sends
	empty     bool         // send no symbols at all, forever
	wrong     []*zeroex.SignedOrder
}

func (f *forger) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	res, err := f.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err != nil {
		return res, err
	}
	switch md := res.Metadata.(type) {
	case *reconcile.ResponseMetadata:
		if md.Op == reconcile.OpSketch {
			c := *md
			n := len(c.Symbols) / riblt.SymbolSize
			switch {
			case f.empty:
				c.Symbols = nil
			case f.symbolsOf != nil:
				c.Symbols = riblt.AppendSymbols(nil, riblt.Encode(f.symbolsOf, c.From, c.From+n))
			}
			res.Metadata = &c
		}
		if md.Op == reconcile.OpFetch && f.wrong != nil {
			res.Orders = f.wrong
		}
	}
	return res, nil
}

func itemsOf(t *testing.T, orders []*zeroex.SignedOrder) []riblt.Item {
	out := make([]riblt.Item, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = riblt.Item(h)
	}
	return out
}

func TestReconcileHostileProviders(t *testing.T) {
	orders := nodetest.Orders(1500)
	held := orders[:1400]
	ghosts := nodetest.Orders(1600)[1500:] // never on the provider
	for _, tc := range []struct {
		name    string
		forger  forger
		tag     string
		wantAll bool // the requester still gets every order, by paging
	}{
		// Symbols of the requester's own set: "in sync", which the digest denies.
		{name: "forged fingerprints", forger: forger{symbolsOf: itemsOf(t, held)}, tag: peerscore.InvalidSketch, wantAll: true},
		{name: "endless rounds", forger: forger{empty: true}, wantAll: true},
		// Claims orders it does not have: the digest matches the symbols
		// only when it is honest, so claim via wrong fetch answers.
		{name: "wrong orders for the hashes", forger: forger{wrong: ghosts}, tag: peerscore.InvalidOrder},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			f := tc.forger
			startReconcileProvider(t, hosts[0], memoryWith(t, orders), func(s ordersync.Subprotocol) ordersync.Subprotocol {
				f.Subprotocol = s
				return &f
			})
			requester := nodetest.StartNode(t, hosts[1], held, nil, all3)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := requester.Service.GetOrders(ctx, 1)
			ps := requester.Service.Stats().Providers[hosts[0].ID()]
			if tc.wantAll {
				if err != nil {
					t.Fatalf("GetOrders: %v (%+v)", err, ps)
				}
				nodetest.SameOrders(t, requester.Store, orders)
			} else {
				// Each round fails the same way until ctx ends.
				if err == nil {
					t.Fatalf("GetOrders synced (%+v)", ps)
				}
				nodetest.SameOrders(t, requester.Store, held)
			}
			if tc.tag != "" && nodetest.Tag(requester.Host, hosts[0].ID(), tc.tag) >= 0 {
				t.Errorf("tag %s not lowered", tc.tag)
			}
		})
	}
}

// TestReconcileClaimsNeverDelivered: a provider whose symbols and digest
// claim orders it never sends is scored and cut off.
func TestReconcileClaimsNeverDelivered(t *testing.T) {
	orders := nodetest.Orders(1000)
	ghosts := nodetest.Orders(1100)[1000:]
	hosts := testnet.New(t, 2)
	// The provider's store holds the ghosts for the sketch only: its
	// fetches are answered from a store without them.
	claimed := memoryWith(t, append(slices.Clone(orders), ghosts...))
	real := reconcile.New(memoryWith(t, orders), nil)
	startReconcileProvider(t, hosts[0], claimed, func(s ordersync.Subprotocol) ordersync.Subprotocol {
		return &splitter{sketch: s, fetch: real}
	})
	requester := nodetest.StartNode(t, hosts[1], orders, nil, all3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := requester.Service.GetOrders(ctx, 1); err == nil {
		t.Fatal("GetOrders synced with a provider that delivers nothing it claims")
	}
	nodetest.SameOrders(t, requester.Store, orders)
	if got := nodetest.Tag(requester.Host, hosts[0].ID(), peerscore.UndeliveredOrders); got >= 0 {
		t.Errorf("%s tag = %d", peerscore.UndeliveredOrders, got)
	}
}

// splitter answers sketch requests with one subprotocol and the others
// with another.
type splitter struct {
	sketch, fetch ordersync.Subprotocol
}

func (s *splitter) Name() string { return s.sketch.Name() }
func (s *splitter) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && md.Op != reconcile.OpSketch {
		return s.fetch.HandleOrderSyncRequest(ctx, req)
	}
	return s.sketch.HandleOrderSyncRequest(ctx, req)
}
func (s *splitter) HandleOrderSyncResponse(ctx context.Context, res *ordersync.Response) (*ordersync.Request, int, error) {
	return s.sketch.HandleOrderSyncResponse(ctx, res)
}
func (s *splitter) ParseRequestMetadata(m json.RawMessage) (interface{}, error) {
	return s.sketch.ParseRequestMetadata(m)
}
func (s *splitter) ParseResponseMetadata(m json.RawMessage) (interface{}, error) {
	return s.sketch.ParseResponseMetadata(m)
}
func (s *splitter) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	return s.sketch.GenerateFirstRequestMetadata()
}

// TestReconcileFirstSyncCostsWhatV1Costs: into an empty requester,
// reconcile pages as v1 does, for at most 1% more bytes and one more round
// trip.
func TestReconcileFirstSyncCostsWhatV1Costs(t *testing.T) {
	orders := nodetest.Orders(2000)
	filter := defaultFilter(t)
	cost := func(names []string) (int64, int64) {
		hosts := testnet.New(t, 2)
		provider := nodetest.StartNode(t, hosts[0], orders, filter, all3)
		requester := nodetest.StartNode(t, hosts[1], nil, filter, names)
		requester.GetOrders(t, 1)
		nodetest.SameOrders(t, requester.Store, orders)
		st := requester.Service.Stats()
		return st.BytesRead + st.BytesWritten, st.Providers[provider.Host.ID()].Pages
	}
	v1Bytes, v1Pages := cost([]string{v1, v0})
	rBytes, rPages := cost(all3)
	t.Logf("first sync of 2000 orders: v1 %d bytes in %d round trips, reconcile %d bytes in %d", v1Bytes, v1Pages, rBytes, rPages)
	if float64(rBytes) > 1.01*float64(v1Bytes) || rPages > v1Pages+1 {
		t.Errorf("reconcile's first sync: %d bytes in %d round trips, v1's %d in %d", rBytes, rPages, v1Bytes, v1Pages)
	}
}
