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
