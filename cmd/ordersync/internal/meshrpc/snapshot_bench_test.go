package meshrpc

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// BenchmarkSnapshot measures what one mesh_getOrders snapshot costs: the
// heap it keeps (B/snapshot) and the time it takes (ns/op; over a Memory,
// the time it holds the store's writers off), over a Memory (the orders'
// pointers) and over SQLite (their hashes). ORDERSYNC_SNAPSHOT_ORDERS sets
// the store's size (default 100 000; the README's figure is at 1 000 000).
func BenchmarkSnapshot(b *testing.B) {
	n := 100_000
	if v := os.Getenv("ORDERSYNC_SNAPSHOT_ORDERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("memory", func(b *testing.B) { benchmarkSnapshot(b, orderstore.NewMemory(), n) })
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "snap.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchmarkSnapshot(b, db, n)
	})
}

func benchmarkSnapshot(b *testing.B, m orderstore.Store, n int) {
	ctx := context.Background()
	for first := 0; first < n; first += 10_000 {
		if _, err := m.AddOrders(ctx, storetest.Orders(first, min(10_000, n-first))); err != nil {
			b.Fatal(err)
		}
	}
	var kept []*snapshot
	b.ResetTimer()
	var before, after runtime.MemStats
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		sn, err := take(ctx, m, "bench", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		kept = append(kept, sn)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "B/snapshot")
		b.ReportMetric(float64(sn.len()), "orders")
		b.StartTimer()
	}
	runtime.KeepAlive(kept)
}
