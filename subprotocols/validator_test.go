package subprotocols_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// judge is a node's Validator for tests: it rejects, as filled, the
// orders whose hashes it is told, and records its calls.
type judge struct {
	mu     sync.Mutex
	filled map[common.Hash]bool
	calls  int
}

func (j *judge) fill(t *testing.T, orders []*zeroex.SignedOrder) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for h := range nodetest.HashSet(t, orders) {
		j.filled[h] = true
	}
}

func (j *judge) validate(_ context.Context, _ peer.ID, orders []*zeroex.SignedOrder) ([]ordersync.Verdict, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls++
	verdicts := make([]ordersync.Verdict, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil || j.filled[h] {
			verdicts[i] = ordersync.Verdict{Result: ordersync.ValidationReject, Reason: ordersync.RejectFilled}
		}
	}
	return verdicts, nil
}

// A node's Validator rejects 20 of a provider's 300 orders: they are
// counted under its reason in Stats and the metrics, never as accepted,
// the provider's score moves, and a second round with reconcile
// downloads none of them again. Later the validator rejects 30 more, and
// a revalidation pass removes them from the store.
func TestValidatorRejectionsCountedAndRemembered(t *testing.T) {
	orders := nodetest.Orders(300)
	hosts := testnet.New(t, 2)
	provider := nodetest.StartNode(t, hosts[0], orders, nil, []string{v2, v1})
	j := &judge{filled: map[common.Hash]bool{}}
	j.fill(t, orders[:20])
	reg := prometheus.NewRegistry()
	requester := nodetest.StartNodeWith(t, hosts[1], nil, nil, []string{v2, v1}, []ordersync.Option{
		ordersync.WithValidator(j.validate, time.Second),
		ordersync.WithMetricsTracer(ordersync.NewMetricsTracer(ordersync.WithRegisterer(reg))),
	})
	requester.GetOrders(t, 1)

	nodetest.SameOrders(t, requester.Store, orders[20:])
	st := requester.Service.Stats()
	if st.OrdersRejected[ordersync.RejectFilled] != 20 || st.OrdersAccepted != 280 || st.OrdersNew != 280 {
		t.Errorf("rejected %v, accepted %d, new %d: want 20 filled, 280 accepted and new", st.OrdersRejected, st.OrdersAccepted, st.OrdersNew)
	}
	if got := rejectedSeries(t, reg, "filled"); got != 20 {
		t.Errorf("ordersync_orders_rejected_total{reason=\"filled\"} = %v, want 20", got)
	}
	if got := nodetest.Tag(requester.Host, provider.Host.ID(), peerscore.RejectedOrder); got != ordersync.DefaultValidatorRejectDelta {
		t.Errorf("%s tag %d, want %d", peerscore.RejectedOrder, got, ordersync.DefaultValidatorRejectDelta)
	}

	// In sync: the rejected orders are not fetched again.
	before := requester.Service.Stats()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := requester.Service.SyncPeer(ctx, provider.Host.ID()); err != nil {
		a := requester.Service.Stats()
		t.Fatalf("second round: %v (received %d, bytes %d/%d, rejected %v)", err, a.OrdersReceived-before.OrdersReceived, a.BytesRead-before.BytesRead, a.BytesWritten-before.BytesWritten, a.OrdersRejected)
	}
	after := requester.Service.Stats()
	bytes := after.BytesRead - before.BytesRead + after.BytesWritten - before.BytesWritten
	if after.OrdersReceived != before.OrdersReceived || bytes > 2048 {
		t.Errorf("second round received %d orders in %d bytes both ways; want none in at most 2048", after.OrdersReceived-before.OrdersReceived, bytes)
	}

	// The chain moves on: 30 stored orders are filled now.
	j.fill(t, orders[20:50])
	removed, err := requester.Service.Revalidate(ctx, requester.Store, 100)
	if err != nil || removed != 30 {
		t.Fatalf("Revalidate removed %d (%v), want 30", removed, err)
	}
	nodetest.SameOrders(t, requester.Store, orders[50:])
}

// rejectedSeries is the value of ordersync_orders_rejected_total{reason}
// in reg.
func rejectedSeries(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "ordersync_orders_rejected_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// refusingStore is a node's store that refuses some orders in its own
// AddOrders, by returning fewer, or fails outright.
type refusingStore struct {
	*orderstore.Memory
	refuse map[common.Hash]bool
	fail   bool
}

func (s *refusingStore) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	if s.fail {
		return 0, errors.New("disk on fire")
	}
	var keep []*zeroex.SignedOrder
	for _, o := range orders {
		if h, _ := o.ComputeOrderHash(); !s.refuse[h] {
			keep = append(keep, o)
		}
	}
	return s.Memory.AddOrders(ctx, keep)
}

// Orders the store refuses are counted as rejected (store_refused), not
// as accepted, and never reach WithOnAccepted; a store that fails makes
// GetOrders return ErrStore instead of retrying for ever, and the
// provider is not blamed.
func TestStoreRefusalsAndFailures(t *testing.T) {
	orders := nodetest.Orders(300)
	hosts := testnet.New(t, 3)
	nodetest.StartNode(t, hosts[0], orders, nil, []string{v1})

	store := &refusingStore{Memory: orderstore.NewMemory(), refuse: nodetest.HashSet(t, orders[:20])}
	var mu sync.Mutex
	announced := 0
	onAccepted := pagination.WithOnAccepted(func(_ peer.ID, got []*zeroex.SignedOrder) {
		mu.Lock()
		defer mu.Unlock()
		announced += len(got)
	})
	node := ordersync.NewHostNode(hosts[1])
	requester := nodetest.StartService(t, node, []ordersync.Subprotocol{filteredpagination.New(store, nil, onAccepted)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := requester.GetOrders(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st := requester.Stats()
	if st.OrdersAccepted != 280 || st.OrdersNew != 280 || st.OrdersRejected[ordersync.RejectStoreRefused] != 20 || announced != 280 {
		t.Errorf("accepted %d, new %d, rejected %v, announced %d: want 280, 280, 20 store_refused, 280", st.OrdersAccepted, st.OrdersNew, st.OrdersRejected, announced)
	}

	broken := &refusingStore{Memory: orderstore.NewMemory(), fail: true}
	failing := nodetest.StartService(t, ordersync.NewHostNode(hosts[2]), []ordersync.Subprotocol{filteredpagination.New(broken, nil)})
	err := failing.GetOrders(ctx, 1)
	if !errors.Is(err, ordersync.ErrStore) {
		t.Fatalf("GetOrders with a failing store: %v, want ErrStore", err)
	}
	if st := failing.Stats(); st.Providers[hosts[0].ID()].Err == nil {
		t.Errorf("the failed sync is not in Stats")
	}
}

// A validator that does not answer in time is bounded by its timeout:
// the batch counts as ignored (not stored, nothing held against the
// provider, nothing remembered) and the sync goes on and ends. Once the
// validator answers again, the next round fetches those orders.
func TestValidatorTimeoutIgnoresTheBatch(t *testing.T) {
	orders := nodetest.Orders(100)
	hosts := testnet.New(t, 2)
	provider := nodetest.StartNode(t, hosts[0], orders, nil, []string{v2, v1})
	var down atomic.Bool
	down.Store(true)
	validate := func(ctx context.Context, _ peer.ID, batch []*zeroex.SignedOrder) ([]ordersync.Verdict, error) {
		if down.Load() {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return make([]ordersync.Verdict, len(batch)), nil
	}
	// The requester holds half already, so reconcile fetches the rest.
	requester := nodetest.StartNodeWith(t, hosts[1], orders[:50], nil, []string{v2, v1}, []ordersync.Option{
		ordersync.WithValidator(validate, 20*time.Millisecond),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := requester.Service.SyncPeer(ctx, provider.Host.ID())
	if !errors.Is(err, ordersync.ErrNoOrdersFromPeer) {
		t.Fatalf("SyncPeer: %v, want ErrNoOrdersFromPeer", err)
	}
	st := requester.Service.Stats()
	if st.OrdersRejected[ordersync.RejectIgnored] != 50 || st.OrdersAccepted != 0 || requester.Store.Len() != 50 {
		t.Errorf("rejected %v, accepted %d, stored %d: want 50 ignored, none kept", st.OrdersRejected, st.OrdersAccepted, requester.Store.Len())
	}
	if got := nodetest.Tag(requester.Host, provider.Host.ID(), peerscore.RejectedOrder); got != 0 {
		t.Errorf("%s tag %d: an ignored batch moved the score", peerscore.RejectedOrder, got)
	}

	down.Store(false)
	if err := requester.Service.SyncPeer(ctx, provider.Host.ID()); err != nil {
		t.Fatalf("SyncPeer with the validator back: %v", err)
	}
	nodetest.SameOrders(t, requester.Store, orders)
}
