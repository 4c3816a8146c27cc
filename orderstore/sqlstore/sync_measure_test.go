package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// measureSyncEnv turns TestMeasureSyncWrites on: the number of orders.
const measureSyncEnv = "ORDERSYNC_MEASURE_SYNC_ORDERS"

// TestMeasureSyncWrites measures what a sync asks of a new SQLite store,
// without the network and the signatures: pages of 500 new orders, each
// looked up with GetMany (as the page's precheck and its turn do) and then
// added; then the same pages again, all held, as a second sync sends them.
// It reports, for each pass, the CPU seconds and the bytes written to disk,
// which a busy machine does not blur as it does wall time, and the file's
// size.
// Set ORDERSYNC_MEASURE_SYNC_ORDERS (e.g. 100000) to run it.
func TestMeasureSyncWrites(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(measureSyncEnv))
	if err != nil {
		t.Skip("set " + measureSyncEnv + " to a number of orders to measure")
	}
	const page = 500
	// Decoded from their JSON, as a sync's pages arrive: a decoded order
	// keeps its encoding when it arrived in exactly that form.
	orders := storetest.Orders(0, n)
	for i, o := range orders {
		js, err := o.AppendJSONUncached(nil)
		if err != nil {
			t.Fatal(err)
		}
		orders[i] = new(zeroex.SignedOrder)
		if err := orders[i].UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
	}
	hashes := make([]common.Hash, n) // Hashed before, as a sync's pages are.
	for i, o := range orders {
		hashes[i] = hashOf(t, o)
	}
	path := filepath.Join(t.TempDir(), "orders.db")
	s := open(t, "sqlite:"+path)
	ctx := context.Background()
	for _, pass := range []struct {
		name string
		want int // new orders a page adds
	}{{"new", page}, {"held", 0}} {
		cpu0, wrote0 := cpuSeconds(t), bytesWritten(t)
		start := time.Now()
		for first := 0; first < n; first += page {
			chunk := orders[first:min(first+page, n)]
			pageHashes := hashes[first : first+len(chunk)]
			for range 2 {
				if _, err := s.GetMany(ctx, pageHashes); err != nil {
					t.Fatal(err)
				}
			}
			if added, err := s.AddOrders(ctx, chunk); err != nil || added != min(pass.want, len(chunk)) {
				t.Fatalf("AddOrders: %d new, %v", added, err)
			}
		}
		wall := time.Since(start)
		cpu, wrote := cpuSeconds(t)-cpu0, bytesWritten(t)-wrote0
		size := fileSizes(t, path)
		t.Logf("%d orders, %s: %.2f s, %.2f CPU s, %.1f MB written, files %.1f MB (%.2fx), load %s",
			n, pass.name, wall.Seconds(), cpu, float64(wrote)/1e6, float64(size)/1e6, float64(wrote)/float64(size), loadAverage())
	}
}

// cpuSeconds is the user and system CPU time of this process so far.
func cpuSeconds(t testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
}

// bytesWritten is what this process has had written to storage so far
// (write_bytes of /proc/self/io).
func bytesWritten(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io: ", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Skip("/proc/self/io has no write_bytes")
	return 0
}

// fileSizes is the size of the database file with its WAL.
func fileSizes(t testing.TB, path string) int64 {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:min(3, len(strings.Fields(string(b))))], " ")
}
