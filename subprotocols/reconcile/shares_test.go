package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// sharePerPage keeps pages small, so that a few thousand orders make a
// book that a first sync spreads over lanes and shares.
const sharePerPage = 100

// startSharer runs a reconcile provider over store, its requests handled
// by wrap's subprotocol when wrap is given.
func startSharer(t *testing.T, h host.Host, store *orderstore.Memory, wrap func(*reconcile.Subprotocol) ordersync.Subprotocol) {
	t.Helper()
	sub := reconcile.New(store, nil, reconcile.WithPagination(pagination.WithPerPage(sharePerPage)))
	var s ordersync.Subprotocol = sub
	if wrap != nil {
		s = wrap(sub)
	}
	nodetest.StartService(t, ordersync.NewHostNode(h), []ordersync.Subprotocol{s})
}

func joined(parts ...[]*zeroex.SignedOrder) []*zeroex.SignedOrder {
	var out []*zeroex.SignedOrder
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestFirstSyncFromSeveralProviders: an empty requester syncs from three
// providers with overlapping and disjoint sets at once. Each pages a share
// of the hash space; the reconciliations after the shares fetch what only
// one of them holds. The requester ends with the union, having received
// far fewer than the three books' orders.
func TestFirstSyncFromSeveralProviders(t *testing.T) {
	orders := nodetest.Orders(6000)
	common, onlyA, onlyB := orders[:5000], orders[5000:5500], orders[5500:]
	hosts := testnet.New(t, 4)
	startSharer(t, hosts[0], memoryWith(t, joined(common, onlyA)), nil)
	startSharer(t, hosts[1], memoryWith(t, joined(common, onlyB)), nil)
	startSharer(t, hosts[2], memoryWith(t, common), nil)
	requester := nodetest.StartNode(t, hosts[3], nil, nil, all3)
	requester.GetOrders(t, 3)
	nodetest.SameOrders(t, requester.Store, orders)
	got := requester.Counts().Received
	t.Logf("received %d orders for %d (the books hold %d)", got, len(orders), 3*len(common)+len(onlyA)+len(onlyB))
	if got > int64(len(orders))*13/10 {
		t.Errorf("received %d orders for %d: the shares overlap", got, len(orders))
	}
}

// staller serves pages until it has served after of them, and then
// answers nothing more until its requester gives up.
type staller struct {
	*reconcile.Subprotocol
	after  int32
	served atomic.Int32
	stop   <-chan struct{}
}

func (s *staller) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && md.Op == reconcile.OpPage && s.served.Add(1) > s.after {
		select {
		case <-ctx.Done():
		case <-s.stop:
		}
		return nil, errors.New("stalled")
	}
	return s.Subprotocol.HandleOrderSyncRequest(ctx, req)
}

// TestFirstSyncProviderStallsMidShare: of two providers, one stops
// answering a few pages into its share. The other takes its share over,
// range by range and then by reconciling, and the requester ends with
// every order.
func TestFirstSyncProviderStallsMidShare(t *testing.T) {
	orders := nodetest.Orders(6000)
	hosts := testnet.New(t, 3)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	startSharer(t, hosts[0], memoryWith(t, orders), nil)
	var stalled *staller
	startSharer(t, hosts[1], memoryWith(t, orders), func(s *reconcile.Subprotocol) ordersync.Subprotocol {
		stalled = &staller{Subprotocol: s, after: 4, stop: stop}
		return stalled
	})
	requester := nodetest.StartNodeWith(t, hosts[2], nil, nil, all3,
		[]ordersync.Option{ordersync.WithMessageTimeout(3 * time.Second)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 1)
	go func() { errs <- requester.Service.SyncPeer(ctx, hosts[1].ID()) }()
	if err := requester.Service.SyncPeer(ctx, hosts[0].ID()); err != nil {
		t.Fatalf("sync with the provider that delivers: %v", err)
	}
	if err := <-errs; err == nil {
		t.Error("the stalled sync counted")
	}
	nodetest.SameOrders(t, requester.Store, orders)
	t.Logf("received %d orders for %d", requester.Counts().Received, len(orders))
	if n := stalled.served.Load(); n <= stalled.after {
		t.Errorf("the staller was asked for %d pages: it never stalled", n)
	}
}

// TestShareWaitOutlastsProviderPatience: a provider whose message timeout
// (2 s) is shorter than the wait for the other shares pages its share; the
// other provider stalls, so the requester waits for its share (until its
// own 5 s message timeout gives that sync up) before it reconciles. The reconciliation goes on, on a new
// stream: before, it was written on the stream the provider had closed,
// the sync failed, and the provider was scored for a disconnect.
func TestShareWaitOutlastsProviderPatience(t *testing.T) {
	orders := nodetest.Orders(6000)
	hosts := testnet.New(t, 3)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	impatient := reconcile.New(memoryWith(t, orders), nil, reconcile.WithPagination(pagination.WithPerPage(sharePerPage)))
	nodetest.StartService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{impatient},
		ordersync.WithMessageTimeout(2*time.Second))
	startSharer(t, hosts[1], memoryWith(t, orders), func(s *reconcile.Subprotocol) ordersync.Subprotocol {
		// Stalls at once: its whole share is left, wider than a
		// range worth taking over, so the impatient provider's
		// sync waits for it.
		return &staller{Subprotocol: s, after: 1, stop: stop}
	})
	requester := nodetest.StartNodeWith(t, hosts[2], nil, nil, all3,
		[]ordersync.Option{ordersync.WithMessageTimeout(5 * time.Second)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 1)
	go func() { errs <- requester.Service.SyncPeer(ctx, hosts[1].ID()) }()
	if err := requester.Service.SyncPeer(ctx, hosts[0].ID()); err != nil {
		t.Fatalf("sync with the impatient provider: %v", err)
	}
	<-errs
	nodetest.SameOrders(t, requester.Store, orders)
	if got := nodetest.Tag(hosts[2], hosts[0].ID(), peerscore.UnexpectedDisconnect); got != 0 {
		t.Errorf("the impatient provider was scored %d for a disconnect", got)
	}
}

// withholder serves pages from a store that lacks some of the orders its
// sketches claim, as a provider that lies about what it holds.
type withholder struct {
	*reconcile.Subprotocol
	pages ordersync.Subprotocol
}

func (w *withholder) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && md.Op != reconcile.OpSketch {
		return w.pages.HandleOrderSyncRequest(ctx, req)
	}
	return w.Subprotocol.HandleOrderSyncRequest(ctx, req)
}

// TestFirstSyncProviderWithholdsOrders: one of two providers pages its
// share without a fifth of the orders in it, and fetches without them
// too. The reconciliation with the honest one after the shares finds them.
func TestFirstSyncProviderWithholdsOrders(t *testing.T) {
	orders := nodetest.Orders(6000)
	var kept []*zeroex.SignedOrder
	for i, o := range orders {
		if i%5 != 0 {
			kept = append(kept, o)
		}
	}
	hosts := testnet.New(t, 3)
	startSharer(t, hosts[0], memoryWith(t, orders), nil)
	partial := reconcile.New(memoryWith(t, kept), nil, reconcile.WithPagination(pagination.WithPerPage(sharePerPage)))
	startSharer(t, hosts[1], memoryWith(t, orders), func(s *reconcile.Subprotocol) ordersync.Subprotocol {
		return &withholder{Subprotocol: s, pages: partial}
	})
	requester := nodetest.StartNode(t, hosts[2], nil, nil, all3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The withholder may or may not count as synced, depending on which
	// sync reconciles first; the honest one must.
	if err := requester.Service.SyncPeer(ctx, hosts[0].ID()); err != nil {
		_ = err // joined by the GetOrders below, or ended by the other sync's share
	}
	var wg sync.WaitGroup
	for _, h := range hosts[:2] {
		wg.Add(1)
		go func(p peer.ID) {
			defer wg.Done()
			_ = requester.Service.SyncPeer(ctx, p)
		}(h.ID())
	}
	wg.Wait()
	if err := requester.Service.SyncPeer(ctx, hosts[0].ID()); err != nil {
		t.Fatalf("sync with the honest provider: %v", err)
	}
	nodetest.SameOrders(t, requester.Store, orders)
}

// TestFirstSyncWithAnOriginalNode: a provider that only pages (the
// original network's subprotocols) is synced as before, its whole book,
// beside a reconcile provider; both count as synced.
func TestFirstSyncWithAnOriginalNode(t *testing.T) {
	orders := nodetest.Orders(6000)
	hosts := testnet.New(t, 3)
	startSharer(t, hosts[0], memoryWith(t, orders), nil)
	original := nodetest.StartNode(t, hosts[1], orders, nil, []string{v1, v0}, pagination.WithPerPage(sharePerPage))
	requester := nodetest.StartNode(t, hosts[2], nil, nil, all3)
	requester.GetOrders(t, 2)
	nodetest.SameOrders(t, requester.Store, orders)
	ps := requester.Service.Stats().Providers[original.Host.ID()]
	if ps.Subprotocol != v1 || ps.LastError != "" {
		t.Fatalf("original node: %+v", ps)
	}
}

// TestConcurrentSyncsFetchEachOrderOnce: a requester that lacks the same
// thousand orders of three providers syncs with all three at once, by
// SyncPeer and GetOrders side by side: each missing order is received
// once, and every provider counts as synced, also those whose orders
// another delivered.
func TestConcurrentSyncsFetchEachOrderOnce(t *testing.T) {
	orders := nodetest.Orders(4000)
	hosts := testnet.New(t, 4)
	for _, h := range hosts[:3] {
		startSharer(t, h, memoryWith(t, orders), nil)
	}
	requester := nodetest.StartNode(t, hosts[3], orders[:3000], nil, all3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 4)
	for _, h := range hosts[:3] {
		go func(p peer.ID) { errs <- requester.Service.SyncPeer(ctx, p) }(h.ID())
	}
	go func() { errs <- requester.Service.GetOrders(ctx, 3) }()
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	nodetest.SameOrders(t, requester.Store, orders)
	if got := requester.Counts().Received; got != 1000 {
		st := requester.Service.Stats()
		for p, ps := range st.Providers {
			t.Logf("provider %s: %d pages, %d orders, %d bytes, last error %q", p, ps.Pages, ps.Orders, ps.BytesReceived, ps.LastError)
		}
		t.Errorf("received %d orders for the 1000 missing", got)
	}
}

// misdeliverer answers fetches with orders that were not asked for.
type misdeliverer struct {
	*reconcile.Subprotocol
	other []*zeroex.SignedOrder
}

func (m *misdeliverer) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && md.Op == reconcile.OpFetch {
		return &ordersync.Response{Orders: m.other, Complete: true,
			Metadata: &reconcile.ResponseMetadata{Op: reconcile.OpFetch}}, nil
	}
	return m.Subprotocol.HandleOrderSyncRequest(ctx, req)
}

// TestLiarHoldsUpFetchesBriefly: a provider whose sketch claims the orders
// the requester lacks, and whose fetches deliver other orders, syncs at
// the same time as an honest one. Whatever it claimed first, the honest
// sync fetches the missing orders and counts as synced; the other orders
// are not stored. (The liar's sync fails with ErrUndelivered when its
// fetches came first, and counts when the honest one's did: the requester
// then holds every order of its set.)
func TestLiarHoldsUpFetchesBriefly(t *testing.T) {
	orders := nodetest.Orders(5000)
	hosts := testnet.New(t, 3)
	startSharer(t, hosts[0], memoryWith(t, orders[:4000]), nil)
	startSharer(t, hosts[1], memoryWith(t, orders[:4000]), func(s *reconcile.Subprotocol) ordersync.Subprotocol {
		return &misdeliverer{Subprotocol: s, other: orders[4500:4600]}
	})
	requester := nodetest.StartNode(t, hosts[2], orders[:3000], nil, all3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 1)
	go func() { errs <- requester.Service.SyncPeer(ctx, hosts[1].ID()) }()
	if err := requester.Service.SyncPeer(ctx, hosts[0].ID()); err != nil {
		t.Fatalf("sync with the honest provider: %v", err)
	}
	if err := <-errs; err != nil && !errors.Is(err, reconcile.ErrUndelivered) {
		t.Errorf("the liar's sync: %v", err)
	}
	nodetest.SameOrders(t, requester.Store, orders[:4000])
}

// mover answers a sync's first sketch request with fewer symbols than the
// index holds, and before the next one has the requester's store take an
// order, as another sync storing orders meanwhile would.
type mover struct {
	*reconcile.Subprotocol
	keep  int
	store *orderstore.Memory
	order *zeroex.SignedOrder
}

func (m *mover) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	md, ok := req.Metadata.(*reconcile.RequestMetadata)
	if ok && md.Op == reconcile.OpSketch && md.From > 0 {
		if _, err := m.store.AddOrders(ctx, []*zeroex.SignedOrder{m.order}); err != nil {
			return nil, err
		}
	}
	res, err := m.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err == nil && ok && md.Op == reconcile.OpSketch && md.From == 0 {
		if rmd, ok := res.Metadata.(*reconcile.ResponseMetadata); ok && len(rmd.Symbols) > m.keep*riblt.SymbolSize {
			rmd.Symbols = rmd.Symbols[:m.keep*riblt.SymbolSize]
		}
	}
	return res, err
}

// TestReconcileStoreMovesDuringSketch: the requester's store takes an
// order while a reconciliation needs more symbols than its index keeps.
// The requester reads its set again and decodes on, instead of paging the
// provider's whole book.
func TestReconcileStoreMovesDuringSketch(t *testing.T) {
	orders := nodetest.Orders(10000)
	hosts := testnet.New(t, 2)
	requester := nodetest.StartNode(t, hosts[1], orders[:1000], nil, all3)
	startSharer(t, hosts[0], memoryWith(t, orders[:9000]), func(s *reconcile.Subprotocol) ordersync.Subprotocol {
		return &mover{Subprotocol: s, keep: orderstore.DefaultIndexSymbols - 100, store: requester.Store, order: orders[9999]}
	})
	requester.GetOrders(t, 1)
	nodetest.SameOrders(t, requester.Store, append(slices.Clone(orders[:9000]), orders[9999]))
	if got := requester.Counts().Received; got > 8000 {
		t.Errorf("received %d orders for the 8000 missing: the sync paged", got)
	}
}
