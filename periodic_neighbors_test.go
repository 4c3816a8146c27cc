package ordersync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// held reports whether store holds o.
func held(t *testing.T, store *orderstore.Memory, o *zeroex.SignedOrder) bool {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return store.Has(h)
}

// The README's set-up with one peer connected: an order that peer gets
// later arrives by the second round, however many peers GetOrders's
// minPeers would have waited for. The test drives the rounds through the
// Service's timer: each wait between rounds is a step it takes.
func TestPeriodicallySyncNeighborsWithOnePeer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	orders := signedOrders(2)
	hosts := testnet.New(t, 2)
	start := func(h int, store *orderstore.Memory, opts ...ordersync.Option) *ordersync.Service {
		node := ordersync.NewHostNode(hosts[h])
		subs := []ordersync.Subprotocol{
			reconcile.New(store, nil, reconcile.WithPeerScorer(node)),
			filteredpagination.New(store, nil, pagination.WithPeerScorer(node)),
		}
		s := ordersync.New(ctx, node, subs, opts...)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, orders[:1]); err != nil {
		t.Fatal(err)
	}
	start(0, providerStore)

	waits := make(chan chan time.Time)
	timer := func(time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		waits <- ch
		return ch
	}
	store := orderstore.NewMemory()
	requester := start(1, store, ordersync.WithTimer(timer))
	done := make(chan error, 1)
	go func() { done <- requester.PeriodicallySyncNeighbors(ctx, 10*time.Minute) }()

	wait := <-waits // the first round has ended
	if !held(t, store, orders[0]) {
		t.Fatal("the first round did not get the peer's order")
	}
	if _, err := providerStore.AddOrders(ctx, orders[1:]); err != nil {
		t.Fatal(err)
	}
	wait <- time.Now()
	<-waits // the second round has ended
	if !held(t, store, orders[1]) {
		t.Fatalf("the second round did not get the order the peer got later (stats %+v)", requester.Stats())
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("PeriodicallySyncNeighbors returned nil when its context ended")
	}
}

// GetOrders(ctx, 2) with one peer there: when ctx ends, the error says
// what happened, "synced with 1 of 2 peers", with the package's prefix
// once, and the round's line is logged at Info.
func TestGetOrdersErrorSaysWhatHappened(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hosts := testnet.New(t, 2)
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, signedOrders(3)); err != nil {
		t.Fatal(err)
	}
	serve := ordersync.New(ctx, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{filteredpagination.New(providerStore, nil)})
	defer serve.Close()

	log, hook := logtest.NewNullLogger()
	// The first wait for more peers ends the call: no sleeping.
	stop := func(time.Duration) <-chan time.Time {
		cancel()
		return nil
	}
	requester := ordersync.New(context.Background(), ordersync.NewHostNode(hosts[1]),
		[]ordersync.Subprotocol{filteredpagination.New(orderstore.NewMemory(), nil)},
		ordersync.WithTimer(stop), ordersync.WithLogger(log))
	defer requester.Close()
	err := requester.PeriodicallyGetOrders(ctx, 2, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	const want = "ordersync: PeriodicallyGetOrders: GetOrders: synced with 1 of 2 peers: context canceled"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	var infos []string
	for _, e := range hook.AllEntries() {
		if e.Level <= logrus.InfoLevel {
			infos = append(infos, e.Message+" "+fmt.Sprint(e.Data["synced"]))
		}
	}
	if len(infos) != 1 || infos[0] != "ordersync: GetOrders ended 1 of 2" {
		t.Errorf("Info and above: %q, want one GetOrders line, synced 1 of 2", infos)
	}
}

// A round that brings a bulk of new orders (PromptRoundOrders or more) is
// followed by the next after a sixteenth of the period; a round that
// brings nothing new, after the period. PeriodicallyGetOrders keeps the
// original network's period whatever a round brought.
func TestPeriodicRoundsAfterBulk(t *testing.T) {
	const period = 16 * time.Second
	for _, tc := range []struct {
		name      string
		afterBulk time.Duration
		loop      func(context.Context, *ordersync.Service) error
	}{
		{"PeriodicallySyncNeighbors", period / 16, func(ctx context.Context, s *ordersync.Service) error {
			return s.PeriodicallySyncNeighbors(ctx, period)
		}},
		{"PeriodicallyGetOrders", period, func(ctx context.Context, s *ordersync.Service) error {
			return s.PeriodicallyGetOrders(ctx, 1, period)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testRoundsAfterBulk(t, period, tc.afterBulk, tc.loop)
		})
	}
}

func testRoundsAfterBulk(t *testing.T, period, afterBulk time.Duration, loop func(context.Context, *ordersync.Service) error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hosts := testnet.New(t, 2)
	start := func(h int, store *orderstore.Memory, opts ...ordersync.Option) *ordersync.Service {
		node := ordersync.NewHostNode(hosts[h])
		subs := []ordersync.Subprotocol{reconcile.New(store, nil, reconcile.WithPeerScorer(node))}
		s := ordersync.New(ctx, node, subs, opts...)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, signedOrders(ordersync.PromptRoundOrders+20)); err != nil {
		t.Fatal(err)
	}
	start(0, providerStore)

	type wait struct {
		d  time.Duration
		ch chan time.Time
	}
	waits := make(chan wait)
	timer := func(d time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		waits <- wait{d, ch}
		return ch
	}
	requester := start(1, orderstore.NewMemory(), ordersync.WithTimer(timer), ordersync.WithJitter(0))
	done := make(chan error, 1)
	go func() { done <- loop(ctx, requester) }()

	w := <-waits // the first round brought every order
	if got := requester.Stats().OrdersNew; got != ordersync.PromptRoundOrders+20 {
		t.Fatalf("the first round brought %d orders, want %d", got, ordersync.PromptRoundOrders+20)
	}
	if w.d != afterBulk {
		t.Errorf("after a round that brought a bulk, waited %v, want %v", w.d, afterBulk)
	}
	w.ch <- time.Now()
	if w = <-waits; w.d != period {
		t.Errorf("after a round that brought nothing, waited %v, want %v", w.d, period)
	}
	cancel()
	w.ch <- time.Now()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the loop: %v, want context.Canceled", err)
	}
}
