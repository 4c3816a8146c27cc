package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// feedWait bounds how long a test waits for a change it is owed. The
// changes of these tests are published before the write returns, so it is
// a guard against a hang, not a delay anyone waits out.
const feedWait = 10 * time.Second

func testRemover(t *testing.T, s orderstore.Store) {
	r, ok := s.(orderstore.Remover)
	if !ok {
		t.Skip("the store is no orderstore.Remover")
	}
	ctx := context.Background()
	orders := Orders(0, 10)
	add(t, s, orders)
	CheckReconcileIndex(t, s, orders) // builds the index where it is built on first use
	gone := []common.Hash{hashOf(t, orders[2]), hashOf(t, orders[5]), hashOf(t, orders[7]), {0x42}}
	n, err := r.Remove(ctx, gone...)
	if err != nil || n != 3 {
		t.Fatalf("Remove(3 held, 1 not) = %d, %v; want 3", n, err)
	}
	kept := append(append(append([]*zeroex.SignedOrder{}, orders[:2]...), orders[3:5]...), orders[6], orders[8], orders[9])
	if got, want := pageAll(t, s, 3), sortedHashes(t, kept); !equalHashes(got, want) {
		t.Fatalf("after Remove the store pages %d orders, want the %d kept", len(got), len(want))
	}
	if g, ok := s.(orderstore.Getter); ok {
		if _, found := g.Get(gone[0]); found {
			t.Fatal("Get finds a removed order")
		}
	}
	CheckReconcileIndex(t, s, kept)
	if n, err := r.Remove(ctx, gone...); err != nil || n != 0 {
		t.Fatalf("Remove again = %d, %v; want 0", n, err)
	}
	// A removed order is new again when it comes back.
	if n := add(t, s, orders[5:6]); n != 1 {
		t.Fatalf("re-adding a removed order: %d new, want 1", n)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Remove(cancelled, hashOf(t, orders[0])); !errors.Is(err, context.Canceled) {
		t.Fatalf("Remove with a cancelled context: %v, want context.Canceled", err)
	}
}

func testAdmitter(t *testing.T, s orderstore.Store) {
	a, ok := s.(orderstore.Admitter)
	if !ok {
		t.Skip("the store is no orderstore.Admitter")
	}
	orders := Orders(0, 4)
	add(t, s, orders[:2])
	adm, err := a.AdmitOrders(context.Background(), []*zeroex.SignedOrder{orders[1], orders[2], orders[3], orders[2]})
	if err != nil {
		t.Fatal(err)
	}
	want := []orderstore.Admission{orderstore.AlreadyHeld, orderstore.Admitted, orderstore.Admitted, orderstore.AlreadyHeld}
	if len(adm) != len(want) {
		t.Fatalf("AdmitOrders of 4 orders: %d admissions", len(adm))
	}
	for i := range want {
		if adm[i] != want[i] {
			t.Fatalf("admission %d: %v, want %v", i, adm[i], want[i])
		}
	}
}

// subscribe subscribes to s's feed, or skips the test.
func subscribe(t *testing.T, s orderstore.Store, buffer int) *orderstore.Subscription {
	t.Helper()
	sub, ok := s.(orderstore.Subscriber)
	if !ok {
		t.Skip("the store is no orderstore.Subscriber")
	}
	sn := sub.Subscribe(buffer)
	t.Cleanup(sn.Close)
	return sn
}

// nextChange is the subscription's next change, which must come.
func nextChange(t *testing.T, sub *orderstore.Subscription) orderstore.Change {
	t.Helper()
	select {
	case c, ok := <-sub.Changes():
		if !ok {
			t.Fatal("the change feed closed")
		}
		return c
	case <-time.After(feedWait):
		t.Fatal("no change on the feed")
	}
	return orderstore.Change{}
}

// expectChanges reads len(hashes) changes, all of kind, of exactly hashes
// (in any order), and then finds the feed empty.
func expectChanges(t *testing.T, sub *orderstore.Subscription, kind orderstore.ChangeKind, hashes ...common.Hash) {
	t.Helper()
	want := make(map[common.Hash]bool, len(hashes))
	for _, h := range hashes {
		want[h] = true
	}
	for range hashes {
		c := nextChange(t, sub)
		if c.Kind != kind || !want[c.Hash] {
			t.Fatalf("change %v of %s; want %v of one of %d orders", c.Kind, c.Hash, kind, len(hashes))
		}
		if c.Order == nil || hashOf(t, c.Order) != c.Hash {
			t.Fatalf("change %v of %s carries another order", c.Kind, c.Hash)
		}
		delete(want, c.Hash)
	}
	expectNoChange(t, sub)
}

// expectNoChange checks that nothing is waiting on the feed. Changes are
// published before the write that made them returns, so nothing more can
// be on its way.
func expectNoChange(t *testing.T, sub *orderstore.Subscription) {
	t.Helper()
	select {
	case c := <-sub.Changes():
		t.Fatalf("unexpected change %v of %s", c.Kind, c.Hash)
	default:
	}
}

func testChangeFeed(t *testing.T, s orderstore.Store) {
	sub := subscribe(t, s, 0)
	orders := Orders(0, 6)
	add(t, s, orders[:4])
	expectChanges(t, sub, orderstore.ChangeAdded, hashesOf(t, orders[:4])...)
	// Orders the store holds already are no change.
	add(t, s, orders[2:6])
	expectChanges(t, sub, orderstore.ChangeAdded, hashesOf(t, orders[4:6])...)
	if r, ok := s.(orderstore.Remover); ok {
		if _, err := r.Remove(context.Background(), hashOf(t, orders[0]), hashOf(t, orders[0]), common.Hash{0x42}); err != nil {
			t.Fatal(err)
		}
		expectChanges(t, sub, orderstore.ChangeRemoved, hashOf(t, orders[0]))
	}
	if sub.Missed() != 0 {
		t.Fatalf("a subscriber with room missed %d changes", sub.Missed())
	}
	sub.Close()
	sub.Close()
	if _, open := <-sub.Changes(); open {
		t.Fatal("a closed subscription's channel is open")
	}
	add(t, s, Orders(100, 3)) // a closed subscription does not hold writes up
}

// testSlowSubscriber: a subscriber that reads nothing never blocks a
// write, and learns how many changes it missed.
func testSlowSubscriber(t *testing.T, s orderstore.Store) {
	slow := subscribe(t, s, 2)
	keen := subscribe(t, s, 1000)
	orders := Orders(0, 300)
	for start := 0; start < len(orders); start += 50 {
		add(t, s, orders[start:start+50])
	}
	if got := slow.Missed(); got != 298 {
		t.Fatalf("a subscriber with room for 2 changes missed %d of 300, want 298", got)
	}
	if keen.Missed() != 0 {
		t.Fatalf("a subscriber with room missed %d changes beside a slow one", keen.Missed())
	}
	expectChanges(t, slow, orderstore.ChangeAdded, hashesOf(t, orders[:2])...)
	expectChanges(t, keen, orderstore.ChangeAdded, hashesOf(t, orders)...)
}

func hashesOf(t testing.TB, orders []*zeroex.SignedOrder) []common.Hash {
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		hashes[i] = hashOf(t, o)
	}
	return hashes
}

func equalHashes(a, b []common.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// CheckReconcileIndex fails t unless s, when it is a Reconciler, has the
// reconciliation snapshot of exactly the orders held, which are all of one
// class (as Orders makes them): a store's own tests call it after the
// changes they make.
func CheckReconcileIndex(t testing.TB, s orderstore.Store, held []*zeroex.SignedOrder) {
	t.Helper()
	r, ok := s.(orderstore.Reconciler)
	if !ok || len(held) == 0 {
		return
	}
	class, _ := orderstore.ClassOf(held[0])
	want := orderstore.NewReconcileIndex(0)
	for _, o := range held {
		h := hashOf(t, o)
		lanes := orderstore.LanesOf(h)
		want.Add(h, o, &lanes)
	}
	got, w := r.ReconcileSnapshot(class, 8), want.Snapshot(class, 8)
	if got.Count != w.Count || got.Digest != w.Digest {
		t.Fatalf("reconciliation snapshot: %d orders, digest %x; want %d orders, digest %x", got.Count, got.Digest, w.Count, w.Digest)
	}
	for i := range min(len(got.Symbols), len(w.Symbols)) {
		if got.Symbols[i] != w.Symbols[i] {
			t.Fatalf("reconciliation snapshot: symbol %d differs from that of the orders held", i)
		}
	}
}
