package storetest

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// statser is a store with Memory's counts (Memory, sqlstore).
type statser interface {
	Stats() orderstore.MemoryStats
}

// testCapacityFlood floods a store bounded to 500 orders, 50 of them
// pinned, with 4 000 valid signed orders from four writers at once, as an
// attacker who signs orders for free would: the store ends holding its
// capacity, every pinned order, and of the rest those that expire first;
// everything it refused expires after its MaxExpiration; its feed, counts
// and reconciliation index agree with what it holds.
func testCapacityFlood(t *testing.T, newStore NewConfiguredStore) {
	const capacity, pinnedCount, writers, perWriter, batch = 500, 50, 4, 1000, 100
	s := newStore(t, Config{Now: newClock().Now, Expiry: true, Margin: time.Minute, Capacity: capacity})
	c := capped(t, s)
	p, okP := s.(orderstore.Pinner)
	a, okA := s.(orderstore.Admitter)
	sb, okS := s.(orderstore.Subscriber)
	if !okP || !okA || !okS {
		t.Skip("the store is not a Pinner, Admitter and Subscriber")
	}
	ctx := context.Background()
	sub := sb.Subscribe(100_000)
	defer sub.Close()

	// The operator's orders expire after every flooded one, so that only
	// pinning keeps them.
	pinned := ordergen.Generate(ordergen.Options{Seed: 2, Count: pinnedCount, ExpirationTimeSeconds: ordergen.DefaultExpirationTimeSeconds + 90*24*3600})
	if n, err := p.AddPinnedOrders(ctx, pinned); err != nil || n != pinnedCount {
		t.Fatalf("AddPinnedOrders: %d, %v", n, err)
	}
	flood := ordergen.Generate(ordergen.Options{Seed: 1, Count: writers * perWriter})
	admitted := make([]int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := flood[w*perWriter : (w+1)*perWriter]
			for start := 0; start < len(mine); start += batch {
				adm, err := a.AdmitOrders(ctx, mine[start:start+batch])
				if err != nil {
					t.Error(err)
					return
				}
				for _, x := range adm {
					switch x {
					case orderstore.Admitted:
						admitted[w]++
					case orderstore.RefusedMaxExpiration:
					default:
						t.Errorf("a flooded order was %v", x)
					}
				}
			}
		}()
	}
	wg.Wait()

	heldSet := held(t, s)
	if len(heldSet) != capacity {
		t.Fatalf("after the flood the store holds %d orders, want %d", len(heldSet), capacity)
	}
	for _, o := range pinned {
		if !heldSet[hashOf(t, o)] {
			t.Fatal("a pinned order was evicted")
		}
	}
	maxExp, bounded := c.MaxExpiration()
	if !bounded {
		t.Fatal("a store that evicted has no MaxExpiration")
	}
	latestHeld, earliestGone := int64(0), int64(math.MaxInt64)
	var kept []*zeroex.SignedOrder
	for _, o := range flood {
		exp := orderstore.ExpirationOf(o)
		if heldSet[hashOf(t, o)] {
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

	// The feed saw every change, and adds up to what is held and to what
	// AdmitOrders said.
	added, evicted := 0, 0
	for len(sub.Changes()) > 0 {
		switch ch := <-sub.Changes(); ch.Kind {
		case orderstore.ChangeAdded:
			added++
		case orderstore.ChangeEvicted:
			evicted++
		default:
			t.Fatalf("unexpected change %v", ch.Kind)
		}
	}
	total := 0
	for _, n := range admitted {
		total += n
	}
	if sub.Missed() != 0 || added-evicted != capacity || total-evicted != capacity-pinnedCount {
		t.Fatalf("feed: %d added, %d evicted, %d missed; AdmitOrders admitted %d; the store holds %d", added, evicted, sub.Missed(), total, capacity)
	}
	if st, ok := s.(statser); ok {
		got := st.Stats()
		if got.Orders != capacity || got.Pinned != pinnedCount || got.Capacity != capacity || got.Evicted != uint64(evicted) || !got.MaxExpiration.Equal(maxExp) {
			t.Fatalf("Stats after the flood: %+v; want %d orders, %d pinned, %d evicted, MaxExpiration %v", got, capacity, pinnedCount, evicted, maxExp)
		}
	}
	CheckReconcileIndex(t, s, append(kept, pinned...))
}

// testLifeConcurrent runs adds, pinned adds, removals, reads and a moving
// clock at once against a store with expiry and a capacity (for the race
// detector), then checks that the feed, the counts and the reconciliation
// index agree with what it holds. How many orders leave by which way
// depends on the scheduling; the tests above check each way.
func testLifeConcurrent(t *testing.T, newStore NewConfiguredStore) {
	const capacity = 300
	clk := &clock{now: time.Unix(ordergen.DefaultExpirationTimeSeconds, 0)}
	s := newStore(t, Config{Now: clk.Now, Expiry: true, Margin: time.Minute, Capacity: capacity})
	capped(t, s)
	expirer(t, s)
	p, okP := s.(orderstore.Pinner)
	a, okA := s.(orderstore.Admitter)
	sb, okS := s.(orderstore.Subscriber)
	r, okR := s.(orderstore.Remover)
	if !okP || !okA || !okS || !okR {
		t.Skip("the store is not a Pinner, Admitter, Subscriber and Remover")
	}
	sub := sb.Subscribe(1 << 20)
	defer sub.Close()
	ctx := context.Background()
	// Expirations spread over 30 days from the clock's start.
	all := ordergen.Generate(ordergen.Options{Seed: 4, Count: 2000})
	pinned := all[:20]
	var wg sync.WaitGroup
	run := func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }
	for w := range 3 {
		run(func() {
			for start := 20 + w*100; start < len(all); start += 300 {
				if _, err := a.AdmitOrders(ctx, all[start:min(start+100, len(all))]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	run(func() {
		if _, err := p.AddPinnedOrders(ctx, pinned); err != nil {
			t.Error(err)
		}
	})
	run(func() {
		for i := 20; i < len(all); i += 7 {
			if _, err := r.Remove(ctx, hashOf(t, all[i])); err != nil {
				t.Error(err)
			}
		}
	})
	run(func() {
		for range 50 {
			clk.Advance(6 * time.Hour)
			if _, err := s.OrdersAfter(ctx, common.Hash{}, 50); err != nil {
				t.Error(err)
			}
			if rec, ok := s.(orderstore.Reconciler); ok {
				rec.ReconcileSnapshot(orderstore.Class{ChainID: ordergen.DefaultChainID, Exchange: ordergen.DefaultExchange}, 4)
			}
		}
	})
	wg.Wait()

	// Everything expired by now has left (a store that prunes in the
	// background may still be at it; ExpireOrders finishes the job).
	rule, _ := expirer(t, s).Expiry()
	if _, err := expirer(t, s).ExpireOrders(ctx); err != nil {
		t.Fatal(err)
	}
	var kept []*zeroex.SignedOrder
	heldSet := held(t, s)
	for _, o := range all {
		if heldSet[hashOf(t, o)] {
			kept = append(kept, o)
			if rule.Expired(o) {
				t.Fatal("the store holds an expired order")
			}
		}
	}
	if len(kept) > capacity || len(kept) != len(heldSet) {
		t.Fatalf("the store holds %d orders (%d of them known), capacity %d", len(heldSet), len(kept), capacity)
	}
	CheckReconcileIndex(t, s, kept)
	net := 0
	for len(sub.Changes()) > 0 {
		if ch := <-sub.Changes(); ch.Kind == orderstore.ChangeAdded {
			net++
		} else {
			net--
		}
	}
	if sub.Missed() != 0 || net != len(kept) {
		t.Fatalf("feed: %d added net, %d missed; the store holds %d", net, sub.Missed(), len(kept))
	}
	if st, ok := s.(statser); ok {
		got := st.Stats()
		t.Logf("held %d (%d pinned), expired %d, evicted %d, removed %d", got.Orders, got.Pinned, got.Expired, got.Evicted, got.Removed)
		if got.Orders != len(kept) {
			t.Fatalf("Stats says %d orders; the store holds %d", got.Orders, len(kept))
		}
	}
}
