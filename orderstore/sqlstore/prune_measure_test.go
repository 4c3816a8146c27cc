package sqlstore_test

import (
	"context"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// measurePruneEnv names the database file TestMeasurePruneStall builds
// (once: later runs copy it) and turns the measurement on. Building it
// takes minutes.
const measurePruneEnv = "ORDERSYNC_MEASURE_PRUNE_DB"

// pruneMeasureStart is the measurement's clock at first: orders that
// expire at once do so 100 s after it.
var pruneMeasureStart = time.Unix(1_900_000_000, 0)

// measureOrders returns n orders from first on, expiring at exp.
func measureOrders(first, n int, exp int64) []*zeroex.SignedOrder {
	orders := storetest.Orders(first, n)
	for _, o := range orders {
		o.ExpirationTimeSeconds = big.NewInt(exp)
		o.ResetHash()
	}
	return orders
}

// TestMeasurePruneStall measures what issue 23 asks of sqlstore's pruner:
// a store of 1 000 000 SQLite orders of which 200 000 expire at the same
// moment, and a sync adding pages of new orders meanwhile. It reports the
// longest and the 99th-percentile AddOrders latency of that sync while the
// pruner deletes the 200 000, against the same sync with nothing to prune.
// Set ORDERSYNC_MEASURE_PRUNE_DB to a file path to run it (and
// ORDERSYNC_MEASURE_PRUNE_ORDERS to change the 1 000 000,
// ORDERSYNC_MEASURE_PRUNE_BATCHES to try batch sizes, and
// ORDERSYNC_MEASURE_PRUNE_ALONE_ONLY to time the prune without the sync,
// ORDERSYNC_MEASURE_PRUNE_SNAPSHOT_ONLY to time only a reconciliation
// snapshot taken as the orders expire).
func TestMeasurePruneStall(t *testing.T) {
	template := os.Getenv(measurePruneEnv)
	if template == "" {
		t.Skip("set " + measurePruneEnv + " to a file path to measure")
	}
	total := 1_000_000
	if n, err := strconv.Atoi(os.Getenv("ORDERSYNC_MEASURE_PRUNE_ORDERS")); err == nil {
		total = n
	}
	expiring := total / 5
	soon, later := pruneMeasureStart.Unix()+100, pruneMeasureStart.Unix()+365*24*3600
	if _, err := os.Stat(template); err != nil {
		began := time.Now()
		s, err := sqlstore.Open(context.Background(), "sqlite:"+template)
		if err != nil {
			t.Fatal(err)
		}
		const chunk = 8192
		for first := 0; first < total; {
			n, exp := min(chunk, total-first), later
			if first < expiring {
				n, exp = min(n, expiring-first), soon
			}
			if _, err := s.AddOrders(context.Background(), measureOrders(first, n, exp)); err != nil {
				t.Fatal(err)
			}
			first += n
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("built %d orders in %s", total, time.Since(began).Round(time.Second))
	}
	if os.Getenv("ORDERSYNC_MEASURE_PRUNE_SNAPSHOT_ONLY") != "" {
		measureSnapshotAtExpiry(t, template, total, false)
		measureSnapshotAtExpiry(t, template, total, true)
		return
	}
	batches := []int{-1}
	for _, f := range strings.Fields(os.Getenv("ORDERSYNC_MEASURE_PRUNE_BATCHES")) {
		if n, err := strconv.Atoi(f); err == nil {
			batches = append(batches, n)
		}
	}
	if len(batches) == 1 {
		batches = append(batches, 0, -1, 0) // the default batch
	}
	for _, batch := range batches {
		if os.Getenv("ORDERSYNC_MEASURE_PRUNE_ALONE_ONLY") == "" {
			measureSyncDuringPrune(t, template, total, batch)
		}
	}
	for _, batch := range batches {
		if batch >= 0 {
			measurePruneAlone(t, template, total, batch)
		}
	}
}

// measureSnapshotAtExpiry times a whole reconciliation snapshot taken the
// moment the orders expiring at once are due (the index built before),
// alone or beside a sync adding pages of new orders.
func measureSnapshotAtExpiry(t *testing.T, template string, total int, withSync bool) {
	path := filepath.Join(t.TempDir(), "orders.db")
	copyFile(t, template, path)
	clock := &testClock{now: pruneMeasureStart}
	s := open(t, "sqlite:"+path, sqlstore.WithExpiry(0), sqlstore.WithClock(clock.Now))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if first := s.ReconcileSnapshotAll(0); first.Count != total {
		t.Fatalf("the index holds %d orders, want %d", first.Count, total)
	}
	var syncing sync.WaitGroup
	if withSync {
		syncing.Add(1)
		go func() {
			defer syncing.Done()
			per := pagination.DefaultPerPage
			for p := 0; ctx.Err() == nil; p++ {
				s.AddOrders(ctx, measureOrders(total+p*per, per, pruneMeasureStart.Unix()+400*24*3600))
			}
		}()
	}
	clock.Add(101 * time.Second)
	began := time.Now()
	snap := s.ReconcileSnapshotAll(64)
	took := time.Since(began)
	stop()
	syncing.Wait()
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("snapshot at expiry (sync beside it: %v): %s, a snapshot of %d orders (%d held before, a fifth due); load %s",
		withSync, took.Round(time.Millisecond), snap.Count, total, string(load[:len(load)-1]))
}

// measurePruneAlone times the deletion of the orders expiring at once
// with nothing else writing: the average transaction of batch orders is
// what a sync's AddOrders may wait behind.
func measurePruneAlone(t *testing.T, template string, total int, batch int) {
	if batch > 0 {
		defer sqlstore.SetPruneBatch(batch)()
	} else {
		batch = 100 // pruneBatch's default
	}
	path := filepath.Join(t.TempDir(), "orders.db")
	copyFile(t, template, path)
	var mu sync.Mutex
	now := pruneMeasureStart
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	began := time.Now()
	s := open(t, "sqlite:"+path, sqlstore.WithExpiry(0), sqlstore.WithClock(clock))
	opened := time.Since(began)
	sub := s.Subscribe(1 << 20)
	defer sub.Close()
	began = time.Now()
	mu.Lock()
	now = now.Add(101 * time.Second)
	mu.Unlock()
	s.Get([32]byte{}) // a read wakes the pruner
	for pruned := 0; pruned < total/5; pruned++ {
		<-sub.Changes()
	}
	took := time.Since(began)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("prune alone, batch=%d: %d orders in %s, %s a transaction on average; Open took %s; load %s",
		batch, total/5, took.Round(time.Millisecond), (took / time.Duration(total/5/batch)).Round(time.Microsecond),
		opened.Round(time.Millisecond), string(load[:len(load)-1]))
}

// measureSyncDuringPrune runs a sync of pages of new orders against a copy
// of template while the pruner deletes the orders expiring at once, batch
// a transaction (the default for 0), or, for batch < 0 (the first run),
// while nothing expires.
func measureSyncDuringPrune(t *testing.T, template string, total int, batch int) {
	prune := batch >= 0
	if batch > 0 {
		defer sqlstore.SetPruneBatch(batch)()
	}
	path := filepath.Join(t.TempDir(), "orders.db")
	copyFile(t, template, path)
	var mu sync.Mutex
	now := pruneMeasureStart
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := open(t, "sqlite:"+path, sqlstore.WithExpiry(0), sqlstore.WithClock(clock))
	ctx := context.Background()
	sub := s.Subscribe(1 << 20)
	defer sub.Close()

	// The sync: pages of new orders, one AddOrders each, until the pruner
	// is done (or as many pages as it took, without one).
	const pages = 400
	per := pagination.DefaultPerPage
	lat := make([]time.Duration, 0, pages)
	began := time.Now()
	if prune {
		mu.Lock()
		now = now.Add(101 * time.Second)
		mu.Unlock()
		s.Get([32]byte{}) // a read wakes the pruner
	}
	pruned := 0
	var pruneTook time.Duration
	for p := 0; p < 20*pages && (p < pages || (prune && pruned < total/5)); p++ {
		orders := measureOrders(total+p*per, per, pruneMeasureStart.Unix()+400*24*3600)
		start := time.Now()
		if _, err := s.AddOrders(ctx, orders); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	drain:
		for {
			select {
			case c := <-sub.Changes():
				if c.Kind == orderstore.ChangeExpired {
					pruned++
					if pruned == total/5 {
						pruneTook = time.Since(began)
					}
				}
			default:
				break drain
			}
		}
	}
	slices.Sort(lat)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("prune=%v batch=%d: %d AddOrders of %d orders: max %s, p99 %s, median %s; pruned %d in %s; load %s",
		prune, batch, len(lat), per, lat[len(lat)-1].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond),
		lat[len(lat)/2].Round(time.Microsecond), pruned, pruneTook.Round(time.Millisecond), string(load[:len(load)-1]))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
