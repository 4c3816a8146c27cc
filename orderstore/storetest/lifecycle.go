package storetest

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// Config is how RunConfigured wants a store set up.
type Config struct {
	// Now is the clock the store judges expiry by; the test moves it.
	Now func() time.Time
	// Margin is the store's expiry margin; 0 when the test wants no
	// expiry.
	Margin time.Duration
	// Expiry says whether the store should drop expired orders.
	Expiry bool
	// Capacity bounds the store; 0 for no bound.
	Capacity int
}

// NewConfiguredStore returns an empty store set up as cfg says, or one
// without what it cannot do (its tests are then skipped); the test's
// Cleanup closes it.
type NewConfiguredStore func(t *testing.T, cfg Config) orderstore.Store

// RunConfigured runs the conformance tests of an order's life: expiry
// (orderstore.Expirer) and capacity (orderstore.Capped, Pinner). A store
// that does not implement one of them has its tests skipped, saying so.
// The tests move an injected clock; none sleeps.
func RunConfigured(t *testing.T, newStore NewConfiguredStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewConfiguredStore)
	}{
		{"Expiry", testExpiry},
		{"ExpiryMargin", testExpiryMargin},
		{"Capacity", testCapacity},
		{"CapacityPinned", testCapacityPinned},
		{"CapacityFlood", testCapacityFlood},
		{"LifeConcurrent", testLifeConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

// start is the fake clocks' first reading: a whole second, in 2030.
var start = time.Unix(1_900_000_000, 0)

// clock is a clock a test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// expiring returns Orders(first, len(secs)), order i expiring secs[i]
// seconds after start.
func expiring(first int, secs ...int64) []*zeroex.SignedOrder {
	orders := Orders(first, len(secs))
	for i, o := range orders {
		o.ExpirationTimeSeconds = big.NewInt(start.Unix() + secs[i])
		o.ResetHash()
	}
	return orders
}

// expirer returns s as an Expirer that judges expiry, or skips the test.
func expirer(t *testing.T, s orderstore.Store) orderstore.Expirer {
	t.Helper()
	e, ok := s.(orderstore.Expirer)
	if !ok {
		t.Skip("the store is no orderstore.Expirer")
	}
	if _, on := e.Expiry(); !on {
		t.Skip("the store was asked for expiry and does not judge it")
	}
	return e
}

// held returns the hashes s pages, as a set.
func held(t *testing.T, s orderstore.Store) map[common.Hash]bool {
	t.Helper()
	set := make(map[common.Hash]bool)
	for _, h := range pageAll(t, s, 100) {
		set[h] = true
	}
	return set
}

// expectHeld checks that s holds exactly orders.
func expectHeld(t *testing.T, s orderstore.Store, orders []*zeroex.SignedOrder) {
	t.Helper()
	got := held(t, s)
	for _, o := range orders {
		if !got[hashOf(t, o)] {
			t.Fatalf("the store does not hold order %s (expires %s)", hashOf(t, o), o.ExpirationTimeSeconds)
		}
	}
	if len(got) != len(orders) {
		t.Fatalf("the store holds %d orders, want %d", len(got), len(orders))
	}
}

func testExpiry(t *testing.T, newStore NewConfiguredStore) {
	c := newClock()
	s := newStore(t, Config{Now: c.Now, Expiry: true})
	e := expirer(t, s)
	ctx := context.Background()
	orders := expiring(0, 10, 20, 30, 40, -5, 0)
	// An order expiring now or earlier is refused.
	if n := add(t, s, orders); n != 4 {
		t.Fatalf("AddOrders of 4 live and 2 expired orders: %d new, want 4", n)
	}
	if a, ok := s.(orderstore.Admitter); ok {
		adm, err := a.AdmitOrders(ctx, orders[4:])
		if err != nil || adm[0] != orderstore.RefusedExpired || adm[1] != orderstore.RefusedExpired {
			t.Fatalf("AdmitOrders of expired orders: %v, %v; want both %v", adm, err, orderstore.RefusedExpired)
		}
	}
	expectHeld(t, s, orders[:4])
	CheckReconcileIndex(t, s, orders[:4])

	var sub *orderstore.Subscription
	if sb, ok := s.(orderstore.Subscriber); ok {
		sub = sb.Subscribe(0)
		defer sub.Close()
	}
	// 20 s on, two have expired: no read returns them.
	c.Advance(20 * time.Second)
	expectHeld(t, s, orders[2:4])
	if g, ok := s.(orderstore.Getter); ok {
		if _, found := g.Get(hashOf(t, orders[0])); found {
			t.Fatal("Get finds an expired order")
		}
	}
	CheckReconcileIndex(t, s, orders[2:4])
	if sub != nil {
		expectChanges(t, sub, orderstore.ChangeExpired, hashesOf(t, orders[:2])...)
	}
	// The store expires by itself too: ExpireOrders finds nothing left.
	c.Advance(time.Hour)
	if g, ok := s.(orderstore.Getter); ok {
		g.Get(common.Hash{})
	}
	if n, err := e.ExpireOrders(ctx); err != nil {
		t.Fatal(err)
	} else if n != 0 && n != 2 {
		t.Fatalf("ExpireOrders: %d, want the 2 left or none", n)
	}
	expectHeld(t, s, nil)
	if sub != nil {
		expectChanges(t, sub, orderstore.ChangeExpired, hashesOf(t, orders[2:4])...)
		if sub.Missed() != 0 {
			t.Fatalf("the subscriber missed %d changes", sub.Missed())
		}
	}
}

func testExpiryMargin(t *testing.T, newStore NewConfiguredStore) {
	c := newClock()
	s := newStore(t, Config{Now: c.Now, Expiry: true, Margin: time.Minute})
	e := expirer(t, s)
	if rule, _ := e.Expiry(); rule.Margin != time.Minute {
		t.Fatalf("Expiry().Margin = %v, want 1m", rule.Margin)
	}
	orders := expiring(0, 59, 60, 61, 120)
	// Within the margin is expired: 59 s and 60 s away are refused.
	if n := add(t, s, orders); n != 2 {
		t.Fatalf("AddOrders with a minute's margin: %d new, want 2", n)
	}
	expectHeld(t, s, orders[2:])
	c.Advance(time.Second)
	expectHeld(t, s, orders[3:])
	c.Advance(59 * time.Second)
	expectHeld(t, s, nil)
}

// capped returns s as Capped with a capacity, or skips the test.
func capped(t *testing.T, s orderstore.Store) orderstore.Capped {
	t.Helper()
	c, ok := s.(orderstore.Capped)
	if !ok {
		t.Skip("the store is no orderstore.Capped")
	}
	if c.Capacity() == 0 {
		t.Skip("the store was asked for a capacity and has none")
	}
	return c
}

// expectMaxExpiration checks the store's MaxExpiration: secs after start,
// or none when secs < 0.
func expectMaxExpiration(t *testing.T, c orderstore.Capped, secs int64) {
	t.Helper()
	got, ok := c.MaxExpiration()
	switch {
	case secs < 0 && ok:
		t.Fatalf("MaxExpiration = %v, want none", got)
	case secs >= 0 && (!ok || !got.Equal(start.Add(time.Duration(secs)*time.Second))):
		t.Fatalf("MaxExpiration = %v, %v; want start+%ds", got, ok, secs)
	}
}

func testCapacity(t *testing.T, newStore NewConfiguredStore) {
	s := newStore(t, Config{Now: newClock().Now, Capacity: 4})
	c := capped(t, s)
	ctx := context.Background()
	orders := expiring(0, 100, 200, 300, 400)
	if n := add(t, s, orders); n != 4 {
		t.Fatalf("filling the store: %d new, want 4", n)
	}
	expectMaxExpiration(t, c, -1)
	CheckReconcileIndex(t, s, orders)
	var sub *orderstore.Subscription
	if sb, ok := s.(orderstore.Subscriber); ok {
		sub = sb.Subscribe(0)
		defer sub.Close()
	}
	// A fifth order evicts the one that expires last, and the store then
	// accepts only orders expiring before it.
	fifth := expiring(10, 250)
	if n := add(t, s, fifth); n != 1 {
		t.Fatalf("adding to a full store: %d new, want 1", n)
	}
	expectHeld(t, s, []*zeroex.SignedOrder{orders[0], orders[1], fifth[0], orders[2]})
	expectMaxExpiration(t, c, 399)
	CheckReconcileIndex(t, s, []*zeroex.SignedOrder{orders[0], orders[1], fifth[0], orders[2]})
	if sub != nil {
		if ch := nextChange(t, sub); ch.Kind != orderstore.ChangeEvicted || ch.Hash != hashOf(t, orders[3]) {
			t.Fatalf("first change %v of %s, want the eviction of the latest order", ch.Kind, ch.Hash)
		}
		expectChanges(t, sub, orderstore.ChangeAdded, hashOf(t, fifth[0]))
	}
	// Beyond MaxExpiration: refused, no change.
	late := expiring(20, 399, 500)
	if n := add(t, s, late[1:]); n != 0 {
		t.Fatalf("an order beyond MaxExpiration: %d new, want 0", n)
	}
	// An order that would be the latest is evicted at once: refused too,
	// and the bound drops below it.
	if a, ok := s.(orderstore.Admitter); ok {
		adm, err := a.AdmitOrders(ctx, late[:1])
		if err != nil || adm[0] != orderstore.RefusedMaxExpiration {
			t.Fatalf("AdmitOrders of the latest order into a full store: %v, %v; want %v", adm, err, orderstore.RefusedMaxExpiration)
		}
		expectMaxExpiration(t, c, 398)
	}
	expectHeld(t, s, []*zeroex.SignedOrder{orders[0], orders[1], fifth[0], orders[2]})
	if sub != nil {
		expectNoChange(t, sub)
	}
	// Room again: any expiration is welcome.
	if r, ok := s.(orderstore.Remover); ok {
		if _, err := r.Remove(ctx, hashOf(t, orders[0])); err != nil {
			t.Fatal(err)
		}
		expectMaxExpiration(t, c, -1)
		if n := add(t, s, late[1:]); n != 1 {
			t.Fatalf("an order far out into a store with room: %d new, want 1", n)
		}
	}
}

func testCapacityPinned(t *testing.T, newStore NewConfiguredStore) {
	s := newStore(t, Config{Now: newClock().Now, Capacity: 3})
	c := capped(t, s)
	p, ok := s.(orderstore.Pinner)
	if !ok {
		t.Skip("the store is no orderstore.Pinner")
	}
	ctx := context.Background()
	orders := expiring(0, 100, 200)
	add(t, s, orders)
	// A pinned order is kept before the others even though it expires
	// last; so is one pinned after it was added.
	pinned := expiring(10, 900)
	if n, err := p.AddPinnedOrders(ctx, pinned); err != nil || n != 1 {
		t.Fatalf("AddPinnedOrders: %d new, %v; want 1", n, err)
	}
	if n, err := p.AddPinnedOrders(ctx, orders[1:2]); err != nil || n != 0 {
		t.Fatalf("pinning a held order: %d new, %v; want 0", n, err)
	}
	if n := add(t, s, expiring(20, 50)); n != 1 {
		t.Fatalf("adding to a full store: %d new, want 1", n)
	}
	// The unpinned order 0 (100 s) was the only one it could evict.
	expectMaxExpiration(t, c, 99)
	if got := held(t, s); !got[hashOf(t, pinned[0])] || !got[hashOf(t, orders[1])] || got[hashOf(t, orders[0])] {
		t.Fatal("the store evicted a pinned order, or kept the unpinned one that expires last")
	}
	// Pinned orders alone may not pass the capacity: a clear error, and
	// nothing stored.
	more := expiring(30, 1000, 1001)
	if _, err := p.AddPinnedOrders(ctx, more); !errors.Is(err, orderstore.ErrFull) {
		t.Fatalf("pinning past the capacity: %v, want orderstore.ErrFull", err)
	}
	if got := held(t, s); got[hashOf(t, more[0])] || got[hashOf(t, more[1])] {
		t.Fatal("a failed AddPinnedOrders stored orders")
	}
	// Full of pinned orders, the store refuses any new order with the
	// same error, and still takes what it holds.
	if n, err := p.AddPinnedOrders(ctx, more[:1]); err != nil || n != 1 {
		t.Fatalf("pinning the third order: %d new, %v; want 1", n, err)
	}
	if _, err := s.AddOrders(ctx, expiring(40, 10)); !errors.Is(err, orderstore.ErrFull) {
		t.Fatalf("adding to a store full of pinned orders: %v, want orderstore.ErrFull", err)
	}
	if n, err := s.AddOrders(ctx, pinned); err != nil || n != 0 {
		t.Fatalf("re-adding a held order to a store full of pinned orders: %d, %v; want 0, nil", n, err)
	}
	expectHeld(t, s, []*zeroex.SignedOrder{orders[1], pinned[0], more[0]})
}
