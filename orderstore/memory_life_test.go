package orderstore_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// TestMemoryCapacityFlood floods a Memory bounded to 500 orders, 50 of
// them pinned, with 4 000 valid signed orders from four writers at once,
// as an attacker who signs orders for free would: the store ends holding
// its capacity, every pinned order, and of the rest those that expire
// first; everything it refused expires after its MaxExpiration; its feed,
// counts and reconciliation index agree with what it holds.
func TestMemoryCapacityFlood(t *testing.T) {
	const capacity, pinnedCount, writers, perWriter, batch = 500, 50, 4, 1000, 100
	ctx := context.Background()
	m := orderstore.NewMemory(orderstore.WithCapacity(capacity), orderstore.WithExpiry(time.Minute))
	defer m.Close()
	sub := m.Subscribe(100_000)
	defer sub.Close()

	// The operator's orders expire after every flooded one, so that only
	// pinning keeps them.
	pinned := ordergen.Generate(ordergen.Options{Seed: 2, Count: pinnedCount, ExpirationTimeSeconds: ordergen.DefaultExpirationTimeSeconds + 90*24*3600})
	if n, err := m.AddPinnedOrders(ctx, pinned); err != nil || n != pinnedCount {
		t.Fatalf("AddPinnedOrders: %d, %v", n, err)
	}
	flood := ordergen.Generate(ordergen.Options{Seed: 1, Count: writers * perWriter})
	for _, o := range flood {
		if err := o.VerifySignature(); err != nil {
			t.Fatalf("ordergen made an order that does not verify: %v", err)
		}
	}
	admitted := make([]int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := flood[w*perWriter : (w+1)*perWriter]
			for start := 0; start < len(mine); start += batch {
				adm, err := m.AdmitOrders(ctx, mine[start:start+batch])
				if err != nil {
					t.Error(err)
					return
				}
				for _, a := range adm {
					switch a {
					case orderstore.Admitted:
						admitted[w]++
					case orderstore.RefusedMaxExpiration:
					default:
						t.Errorf("a flooded order was %v", a)
					}
				}
			}
		}()
	}
	wg.Wait()

	st := m.Stats()
	if st.Orders != capacity || st.Pinned != pinnedCount || st.Capacity != capacity {
		t.Fatalf("after the flood: %d orders, %d pinned, capacity %d; want %d, %d, %d", st.Orders, st.Pinned, st.Capacity, capacity, pinnedCount, capacity)
	}
	maxExp, bounded := m.MaxExpiration()
	if !bounded || !maxExp.Equal(st.MaxExpiration) {
		t.Fatalf("MaxExpiration = %v, %v; Stats says %v", maxExp, bounded, st.MaxExpiration)
	}
	total := 0
	for _, n := range admitted {
		total += n
	}
	if uint64(total)-st.Evicted != capacity-pinnedCount {
		t.Fatalf("admitted %d, evicted %d: %d left of the flood, want %d", total, st.Evicted, uint64(total)-st.Evicted, capacity-pinnedCount)
	}

	// What it holds expires no later than anything it let go, and what it
	// let go expires after MaxExpiration.
	heldSet := make(map[common.Hash]bool)
	if err := m.Each(ctx, func(h common.Hash, _ *zeroex.SignedOrder) bool { heldSet[h] = true; return true }); err != nil {
		t.Fatal(err)
	}
	for _, o := range pinned {
		if !heldSet[hash(t, o)] {
			t.Fatal("a pinned order was evicted")
		}
	}
	latestHeld, earliestGone := int64(0), int64(math.MaxInt64)
	var kept []*zeroex.SignedOrder
	for _, o := range flood {
		exp := orderstore.ExpirationOf(o)
		if heldSet[hash(t, o)] {
			latestHeld = max(latestHeld, exp)
			kept = append(kept, o)
		} else {
			earliestGone = min(earliestGone, exp)
			if exp <= maxExp.Unix() {
				t.Fatalf("an order expiring at %d, not after MaxExpiration %d, was let go", exp, maxExp.Unix())
			}
		}
	}
	if latestHeld > earliestGone {
		t.Fatalf("the store holds an order expiring at %d and let one expiring at %d go", latestHeld, earliestGone)
	}

	// The feed saw every change, and adds up to what is held.
	added, evicted := 0, 0
	for len(sub.Changes()) > 0 {
		switch c := <-sub.Changes(); c.Kind {
		case orderstore.ChangeAdded:
			added++
		case orderstore.ChangeEvicted:
			evicted++
		default:
			t.Fatalf("unexpected change %v", c.Kind)
		}
	}
	if sub.Missed() != 0 || added-evicted != capacity || uint64(evicted) != st.Evicted {
		t.Fatalf("feed: %d added, %d evicted, %d missed; store: %d held, %d evicted", added, evicted, sub.Missed(), capacity, st.Evicted)
	}

	// The reconciliation index is that of the orders held.
	storetest.CheckReconcileIndex(t, m, append(kept, pinned...))
}

// TestMemoryPrunerExpiresUnread: with nobody reading, the pruner drops an
// order within about a second of its expiry, and says so on the feed. The
// test waits for the change, not for time.
func TestMemoryPrunerExpiresUnread(t *testing.T) {
	m := orderstore.NewMemory(orderstore.WithExpiry(0))
	defer m.Close()
	sub := m.Subscribe(0)
	o := ordergen.Generate(ordergen.Options{Seed: 3, Count: 1})[0]
	o.ExpirationTimeSeconds.SetInt64(time.Now().Unix() + 1)
	o.ResetHash()
	if n, err := m.AddOrders(context.Background(), []*zeroex.SignedOrder{o}); err != nil || n != 1 {
		t.Fatalf("AddOrders: %d, %v", n, err)
	}
	select {
	case c := <-sub.Changes():
		if c.Kind != orderstore.ChangeAdded {
			t.Fatalf("first change %v, want added", c.Kind)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change")
	}
	select {
	case c := <-sub.Changes():
		if c.Kind != orderstore.ChangeExpired || c.Hash != hash(t, o) {
			t.Fatalf("change %v of %s, want the order's expiry", c.Kind, c.Hash)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pruner did not drop an order that expired")
	}
	if st := m.Stats(); st.Expired != 1 || st.Orders != 0 {
		t.Fatalf("Stats after expiry: %+v", st)
	}
	// Close ends the pruner (TestMain's goleak checks) and the feed.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, open := <-sub.Changes(); open {
		t.Fatal("the feed is open after Close")
	}
}

func hash(t *testing.T, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestMemoryLifeConcurrent runs adds, pinned adds, removals, reads and a
// moving clock at once against a Memory with expiry and a capacity (for
// the race detector), then checks that the feed, the counts and the
// reconciliation index agree with what it holds. How many orders leave by
// which way depends on the scheduling; the tests above check each way.
func TestMemoryLifeConcurrent(t *testing.T) {
	const capacity = 300
	var mu sync.Mutex
	now := time.Unix(ordergen.DefaultExpirationTimeSeconds, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := orderstore.NewMemory(orderstore.WithCapacity(capacity), orderstore.WithExpiry(time.Minute), orderstore.WithClock(clock))
	defer m.Close()
	sub := m.Subscribe(1 << 20)
	ctx := context.Background()
	// Expirations spread over 30 days from the clock's start.
	all := ordergen.Generate(ordergen.Options{Seed: 4, Count: 2000})
	pinned := all[:20]
	var wg sync.WaitGroup
	run := func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }
	for w := range 3 {
		run(func() {
			for start := 20 + w*100; start < len(all); start += 300 {
				if _, err := m.AdmitOrders(ctx, all[start:min(start+100, len(all))]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	run(func() {
		if _, err := m.AddPinnedOrders(ctx, pinned); err != nil {
			t.Error(err)
		}
	})
	run(func() {
		for i := 20; i < len(all); i += 7 {
			if _, err := m.Remove(ctx, hash(t, all[i])); err != nil {
				t.Error(err)
			}
		}
	})
	run(func() {
		for range 50 {
			mu.Lock()
			now = now.Add(6 * time.Hour)
			mu.Unlock()
			if _, err := m.OrdersAfter(ctx, common.Hash{}, 50); err != nil {
				t.Error(err)
			}
			m.ReconcileSnapshot(orderstore.Class{ChainID: ordergen.DefaultChainID, Exchange: ordergen.DefaultExchange}, 4)
		}
	})
	wg.Wait()

	var held []*zeroex.SignedOrder
	if err := m.Each(ctx, func(_ common.Hash, o *zeroex.SignedOrder) bool { held = append(held, o); return true }); err != nil {
		t.Fatal(err)
	}
	if len(held) > capacity {
		t.Fatalf("the store holds %d orders, capacity %d", len(held), capacity)
	}
	rule, _ := m.Expiry()
	for _, o := range held {
		if rule.Expired(o) {
			t.Fatal("the store holds an expired order")
		}
	}
	storetest.CheckReconcileIndex(t, m, held)
	net := 0
	for len(sub.Changes()) > 0 {
		if c := <-sub.Changes(); c.Kind == orderstore.ChangeAdded {
			net++
		} else {
			net--
		}
	}
	st := m.Stats()
	t.Logf("held %d (%d pinned), expired %d, evicted %d, removed %d", st.Orders, st.Pinned, st.Expired, st.Evicted, st.Removed)
	if sub.Missed() != 0 || net != len(held) || st.Orders != len(held) {
		t.Fatalf("feed: %d added net, %d missed; the store holds %d, Stats says %d", net, sub.Missed(), len(held), st.Orders)
	}
}
