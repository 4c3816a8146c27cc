package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// sameRecorder wraps a provider's reconcile: it keeps every sketch answer
// it sends, and can play an old provider (one that ignores the held sum)
// or a liar (one that answers "same" whatever the sets).
type sameRecorder struct {
	ordersync.Subprotocol
	ignoreSum bool // drop the request's held sum, as a provider before it did
	lie       bool // answer every first sketch request "same"
	lateLie   bool // answer a sync's second sketch request "same"
	cut       int  // send at most this many symbols in a first answer (0: all)

	mu      sync.Mutex
	answers []reconcile.ResponseMetadata
}

func (r *sameRecorder) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && r.ignoreSum {
		c := *md
		c.HeldSum = nil
		req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &c}
	}
	res, err := r.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err != nil {
		return res, err
	}
	md, ok := res.Metadata.(*reconcile.ResponseMetadata)
	if !ok || md.Op != reconcile.OpSketch {
		return res, nil
	}
	c := *md
	switch {
	case r.lie && c.From == 0:
		c = reconcile.ResponseMetadata{Op: reconcile.OpSketch, Total: c.Total, Same: true}
	case r.lateLie && c.From > 0:
		c = reconcile.ResponseMetadata{Op: reconcile.OpSketch, Total: c.Total, Same: true}
	case r.cut > 0 && c.From == 0 && len(c.Symbols) > r.cut*41:
		c.Symbols = c.Symbols[:r.cut*41]
	}
	r.mu.Lock()
	r.answers = append(r.answers, c)
	r.mu.Unlock()
	return &ordersync.Response{Orders: res.Orders, Complete: res.Complete, Metadata: &c}, nil
}

func (r *sameRecorder) sketches() []reconcile.ResponseMetadata {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]reconcile.ResponseMetadata(nil), r.answers...)
}

// startRecorded runs a reconcile provider of orders behind r.
func startRecorded(t *testing.T, orders []*zeroex.SignedOrder, r *sameRecorder) []host.Host {
	t.Helper()
	hosts := testnet.New(t, 2)
	startReconcileProvider(t, hosts[0], memoryWith(t, orders), func(s ordersync.Subprotocol) ordersync.Subprotocol {
		r.Subprotocol = s
		return r
	})
	return hosts
}

// A requester that holds the provider's whole set gets a "same" answer to
// its first request, with no symbols and no digest, and the sync counts as
// in sync (GetOrders succeeds though no order came). Before, every such
// round drew the digest and 12 symbols, about 900 bytes of JSON.
func TestReconcileSameWhenInSync(t *testing.T) {
	orders := nodetest.Orders(1000)
	r := &sameRecorder{}
	hosts := startRecorded(t, orders, r)
	requester := nodetest.StartNode(t, hosts[1], orders, nil, all3)
	requester.GetOrders(t, 1)
	answers := r.sketches()
	if len(answers) != 1 || !answers[0].Same || len(answers[0].Symbols) != 0 || len(answers[0].Digest) != 0 || answers[0].Total != len(orders) {
		t.Fatalf("sketch answers %+v, want one \"same\" with total %d and nothing else", answers, len(orders))
	}
	if got := requester.Counts().Received; got != 0 {
		t.Fatalf("%d orders received", got)
	}
	ps := requester.Service.Stats().Providers[hosts[0].ID()]
	if ps.Subprotocol != v2 {
		t.Fatalf("synced with %q", ps.Subprotocol)
	}
}

// A provider that does not know the held sum answers with symbols; the
// requester decodes them and is in sync, as before. A requester that holds
// one order less is not "same": it gets symbols and fetches the order.
func TestReconcileSameOldProviderAndNearMiss(t *testing.T) {
	orders := nodetest.Orders(1000)
	for _, tc := range []struct {
		name string
		r    *sameRecorder
		held []*zeroex.SignedOrder
	}{{"old provider", &sameRecorder{ignoreSum: true}, orders}, {"one missing", &sameRecorder{}, orders[1:]}} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := startRecorded(t, orders, tc.r)
			requester := nodetest.StartNode(t, hosts[1], tc.held, nil, all3)
			requester.GetOrders(t, 1)
			nodetest.SameOrders(t, requester.Store, orders)
			answers := tc.r.sketches()
			if len(answers) == 0 || answers[0].Same || len(answers[0].Symbols) == 0 || len(answers[0].Digest) == 0 {
				t.Fatalf("first sketch answer %+v, want symbols and a digest", answers)
			}
		})
	}
}

// A provider that answers "same" falsely hides its orders in that sync,
// as withholding them always could, and the sync counts, as delivering any
// one valid order always made it count; it hides nothing from another
// provider. A "same" after symbols fails the sync.
func TestReconcileSameFalsely(t *testing.T) {
	orders := nodetest.Orders(1000)
	held := orders[:900]
	oneRound := ordersync.WithBackoffFactory(func() backoff.BackOff { return &backoff.StopBackOff{} })

	liar := &sameRecorder{lie: true}
	hosts := startRecorded(t, orders, liar)
	requester := nodetest.StartNodeWith(t, hosts[1], held, nil, all3, []ordersync.Option{oneRound})
	requester.GetOrders(t, 1)
	nodetest.SameOrders(t, requester.Store, held)

	honest := testnet.New(t, 1)[0]
	startReconcileProvider(t, honest, memoryWith(t, orders), nil)
	testnet.Connect(t, requester.Host, honest)
	if err := requester.Service.SyncPeer(t.Context(), honest.ID()); err != nil {
		t.Fatalf("sync with the honest provider: %v", err)
	}
	nodetest.SameOrders(t, requester.Store, orders)

	late := &sameRecorder{lateLie: true, cut: 2}
	hosts = startRecorded(t, orders, late)
	requester = nodetest.StartNodeWith(t, hosts[1], held, nil, all3, []ordersync.Option{oneRound})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := requester.Service.GetOrders(ctx, 1)
	ps := requester.Service.Stats().Providers[hosts[0].ID()]
	if err == nil || !strings.Contains(ps.LastError, "same") {
		t.Fatalf("a \"same\" after symbols: GetOrders %v, last error %q", err, ps.LastError)
	}
	nodetest.SameOrders(t, requester.Store, held)
}

// On the wire: the provider answers "same" only to the exact sum of its
// set; a wrong sum, or none (a requester before the field), gets symbols;
// a sum of the wrong size, or outside a sketch request, is refused.
func TestReconcileSameOnTheWire(t *testing.T) {
	orders := nodetest.Orders(500)
	hosts := testnet.New(t, 2)
	nodetest.StartNode(t, hosts[0], orders, nil, all3)
	first, err := reconcile.New(memoryWith(t, orders), nil).GenerateFirstRequestMetadata()
	if err != nil {
		t.Fatal(err)
	}
	var md reconcile.RequestMetadata
	if err := json.Unmarshal(first, &md); err != nil || len(md.HeldSum) != 32 {
		t.Fatalf("first request %s: %v", first, err)
	}
	wrong := append([]byte(nil), md.HeldSum...)
	wrong[0] ^= 1
	sum := func(b []byte) string { s, _ := json.Marshal(b); return string(s) }
	for _, tc := range []struct {
		metadata string
		same     bool
	}{
		{string(first), true},
		{fmt.Sprintf(`{"op":"sketch","orderfilter":null,"held":500,"heldSum":%s}`, sum(wrong)), false},
		{fmt.Sprintf(`{"op":"sketch","orderfilter":null,"held":499,"heldSum":%s}`, sum(md.HeldSum)), false},
		{`{"op":"sketch","orderfilter":null,"held":500}`, false},
	} {
		w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
		a, n := ask(t, w, tc.metadata)
		got := a.Metadata
		if got.Same != tc.same || (tc.same && (len(got.Symbols) != 0 || len(got.Digest) != 0 || got.Total != 500)) ||
			(!tc.same && len(got.Symbols) == 0) {
			t.Fatalf("%s: answer %+v", tc.metadata, got)
		}
		t.Logf("%s...: %d bytes", tc.metadata[:min(len(tc.metadata), 60)], n)
		_ = w.Stream.Close()
	}
	for _, bad := range []string{
		fmt.Sprintf(`{"op":"sketch","orderfilter":null,"held":500,"heldSum":%s}`, sum(md.HeldSum[:31])),
		fmt.Sprintf(`{"op":"page","orderfilter":null,"heldSum":%s}`, sum(md.HeldSum)),
	} {
		w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
		w.Request([]string{v2}, bad)
		if line, err := w.ReadLine(); err == nil {
			t.Fatalf("%s: answered %.200s", bad, line)
		}
		_ = w.Stream.Close()
	}
}
