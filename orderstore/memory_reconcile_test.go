package orderstore

import (
	"context"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/zeroex"
)

// freshSnapshot computes what m's index must say for class (every order
// when class is nil), from scratch.
func freshSnapshot(t testing.TB, m *Memory, class *Class, symbols int) ([]Symbol, Digest, int) {
	t.Helper()
	var items []riblt.Item
	var d riblt.Digest
	err := m.Each(context.Background(), func(h common.Hash, o *zeroex.SignedOrder) bool {
		if c, ok := ClassOf(o); class == nil || ok && c == *class {
			x := riblt.Item(h)
			items = append(items, x)
			d.AddItem(&x)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	var syms []Symbol
	for _, s := range riblt.Encode(items, 0, symbols) {
		syms = append(syms, Symbol(s))
	}
	return syms, Digest{d}, len(items)
}

func TestMemoryReconcileIndexStaysCurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	orders := testOrders(0, 600)
	// A third of them on another chain: a class of their own.
	for i := 0; i < len(orders); i += 3 {
		orders[i].ChainID = big.NewInt(1)
	}
	mustAdd(t, m, orders[:200])
	class, _ := ClassOf(orders[1])
	v0 := m.Version()
	snap := m.ReconcileSnapshot(class, 64) // builds the index
	checkSnapshot(t, m, &class, snap)

	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		lo := r.IntN(len(orders) - 50)
		mustAdd(t, m, orders[lo:lo+r.IntN(50)])
		var gone []common.Hash
		for i := 0; i < 20; i++ {
			gone = append(gone, mustHash(t, orders[r.IntN(len(orders))]))
		}
		if _, err := m.Remove(ctx, gone...); err != nil {
			t.Fatal(err)
		}
		checkSnapshot(t, m, &class, m.ReconcileSnapshot(class, 64))
		checkSnapshot(t, m, nil, m.ReconcileSnapshotAll(64))
	}
	if m.Version() == v0 {
		t.Fatal("version did not move")
	}
	other, _ := ClassOf(orders[0])
	checkSnapshot(t, m, &other, m.ReconcileSnapshot(other, 64))
	empty := m.ReconcileSnapshot(Class{ChainID: 99}, 8)
	if empty.Count != 0 || len(empty.Symbols) != 8 {
		t.Fatalf("empty class: %d orders, %d symbols", empty.Count, len(empty.Symbols))
	}
}

func checkSnapshot(t *testing.T, m *Memory, class *Class, snap ReconcileSnapshot) {
	t.Helper()
	want, digest, n := freshSnapshot(t, m, class, len(snap.Symbols))
	if snap.Count != n || snap.Digest != digest || !slices.Equal(snap.Symbols, want) {
		t.Fatalf("snapshot of %d orders differs from a fresh one of %d", snap.Count, n)
	}
	if snap.Version != m.Version() {
		t.Fatalf("snapshot version %d, store at %d", snap.Version, m.Version())
	}
}

// TestMemoryReconcileIndexConcurrent builds and queries the index while
// orders are added and removed (run with -race).
func TestMemoryReconcileIndexConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	orders := testOrders(0, 2000)
	mustAdd(t, m, orders[:500])
	class, _ := ClassOf(orders[0])
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 500; i < 2000; i += 100 {
			mustAdd(t, m, orders[i:i+100])
			if _, err := m.Remove(ctx, mustHash(t, orders[i-400])); err != nil {
				t.Error(err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			m.ReconcileSnapshot(class, 16)
		}
	}()
	wg.Wait()
	checkSnapshot(t, m, &class, m.ReconcileSnapshot(class, 128))
}

// BenchmarkMemoryReconcileIndex reports the three costs of the index at
// 100 000 orders: building it, keeping it current per order added and
// removed, and a provider's in-sync query.
func BenchmarkMemoryReconcileIndex(b *testing.B) {
	const size = 100_000
	orders := testOrders(0, size+1000)
	for _, o := range orders {
		mustHash(b, o)
	}
	class, _ := ClassOf(orders[0])
	b.Run("build", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			m := NewMemory()
			mustAdd(b, m, orders[:size])
			b.StartTimer()
			m.ReconcileSnapshot(class, 1)
		}
	})
	m := NewMemory()
	mustAdd(b, m, orders[:size])
	m.ReconcileSnapshot(class, 1)
	b.Run("update", func(b *testing.B) {
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			o := orders[size+i%1000]
			mustAdd(b, m, orders[size+i%1000:size+i%1000+1])
			if _, err := m.Remove(ctx, mustHash(b, o)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/change")
	})
	b.Run("query16", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m.ReconcileSnapshot(class, 16)
		}
	})
}
