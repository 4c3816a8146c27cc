package main

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
)

func TestBenchPrintsTheRatioLast(t *testing.T) {
	cfg := defaultBenchConfig()
	cfg.orders = 1000
	cfg.runs = 2
	cfg.resyncOrders = 2000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if err := runBenchWith(ctx, cfg, &out, &log); err != nil {
		t.Fatalf("runBenchWith: %v\nlog:\n%s", err, log.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if !regexp.MustCompile(`(?m)^sync/limit ratio: [0-9]+\.[0-9]{2}$`).MatchString(out.String()) {
		t.Errorf("no ratio line; output:\n%s", out.String())
	}
	if n := len(lines); !regexp.MustCompile(`^re-sync/missing bytes ratio: [0-9.]+ \(n=2000, d=1000\)$`).MatchString(lines[n-2]) ||
		!regexp.MustCompile(`^re-sync bytes when in sync: [0-9]+ \(n=2000\)$`).MatchString(lines[n-1]) {
		t.Errorf("last lines %q are not the re-sync lines; output:\n%s", lines[n-2:], out.String())
	}
	for _, want := range []string{
		"1. transport", "2. verification",
		"3. full sync v1 (order-hash cursor), default rate limit",
		"3. full sync v0 (page numbers), rate limit lifted",
		"4. re-sync v1 (order-hash cursor), 99% held",
		"3. full sync v1 (order-hash cursor), rate limit lifted, metrics tracer on",
		"metrics tracer (rate limit lifted, medians): v1 (order-hash cursor) ",
		"memory held per order (live heap): requester ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchFlags(t *testing.T) {
	cfg, err := parseBenchFlags([]string{"--orders", "2000", "--per-page", "100", "--seed", "3", "--runs", "5", "--cpuprofile", "x.prof"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.orders != 2000 || cfg.perPage != 100 || cfg.seed != 3 || cfg.runs != 5 || cfg.cpuProfile != "x.prof" {
		t.Errorf("parsed %+v", cfg)
	}
	if def, _ := parseBenchFlags(nil, new(bytes.Buffer)); def.runs != 3 {
		t.Errorf("default --runs %d, want 3", def.runs)
	}
	for _, args := range [][]string{{"--orders", "10"}, {"--per-page", "0"}, {"--runs", "0"}, {"x"}} {
		if _, err := parseBenchFlags(args, new(bytes.Buffer)); err == nil || !cli.IsUsageError(err) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
	var usage bytes.Buffer
	_, _ = parseBenchFlags([]string{"-h"}, &usage)
	if strings.Contains(usage.String(), "cpuprofile") || !strings.Contains(usage.String(), "-orders") {
		t.Errorf("usage shows hidden flags or lacks visible ones:\n%s", usage.String())
	}
}

func TestMeasureOrderMemory(t *testing.T) {
	orders := ordergen.Generate(ordergen.Options{Seed: 2, Count: 2000, Makers: 2})
	mem, err := measureOrderMemory(context.Background(), orders)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("per order: order %d B, hash %d B, store %d B, encoding %d B", mem.order, mem.hash, mem.store, mem.encoding)
	// Loose bounds: a SignedOrder struct alone is 312 bytes, a hash 32, a
	// B-tree item 16, an encoding over 900; each part is well under 2 KB.
	for _, part := range []struct {
		name   string
		got    int64
		lo, hi int64
	}{
		{"order", mem.order, 312, 2048},
		{"hash", mem.hash, 16, 128},
		{"store", mem.store, 20, 512},
		{"encoding", mem.encoding, 900, 2048},
	} {
		if part.got < part.lo || part.got > part.hi {
			t.Errorf("%s: %d bytes per order, want %d to %d", part.name, part.got, part.lo, part.hi)
		}
	}
}

func TestMedianRow(t *testing.T) {
	row := func(ms int) benchRow { return benchRow{orders: 1000, elapsed: time.Duration(ms) * time.Millisecond} }
	// 1000 orders in 100, 50, 200 and 125 ms: 10000, 20000, 5000, 8000 orders/s.
	med := medianRow([]benchRow{row(100), row(50), row(200), row(125)})
	if med.elapsed != 125*time.Millisecond {
		t.Errorf("median of four runs took %v, want the slower middle one, 125ms", med.elapsed)
	}
	if want := []float64{5000, 8000, 10000, 20000}; !slices.Equal(med.runs, want) {
		t.Errorf("runs %v, want %v", med.runs, want)
	}
	// (20000-5000)/8000 = 187.5%, half of it either side.
	if got, want := med.spread(), "5000–20000, ±94%"; got != want {
		t.Errorf("spread %q, want %q", got, want)
	}
	if med := medianRow([]benchRow{row(100), row(50), row(200)}); med.elapsed != 100*time.Millisecond {
		t.Errorf("median of three runs took %v, want 100ms", med.elapsed)
	}
	if got := medianRow([]benchRow{row(100)}).spread(); got != "one run" {
		t.Errorf("spread of one run %q", got)
	}
}

func TestHeldShare(t *testing.T) {
	orders := ordergen.Generate(ordergen.Options{Seed: 5, Count: 1000, Makers: 2})
	held, missing, err := heldShare(orders, 0.99)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 990 || missing != 10 {
		t.Fatalf("held %d, missing %d; want 990, 10", len(held), missing)
	}
	for i, o := range held {
		if o == orders[i] {
			t.Fatalf("held order %d is the original object, want a fresh copy", i)
		}
	}
}

var benchSyncOrders = flag.Int("sync-orders", 10_000, "orders in BenchmarkSync*")

// benchmarkSync times full syncs of *benchSyncOrders orders from one
// provider into an empty requester store, over loopback, with the rate
// limit lifted: the code path to profile (go test -bench Sync -cpuprofile).
func benchmarkSync(b *testing.B, subprotocol string) {
	ctx := context.Background()
	orders := ordergen.Generate(ordergen.Options{Seed: 1, Count: *benchSyncOrders, Makers: cli.Makers})
	filter, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	var bytesIn int64
	b.ResetTimer()
	for b.Loop() {
		// measureSync sets up the hosts outside the part it times; the
		// benchmark clock runs over the setup too, so report our own.
		res, err := measureSync(ctx, syncRun{
			subprotocol: subprotocol, perPage: 500, noRateLimit: true,
			provided: orders, filter: filter,
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.held != len(orders) {
			b.Fatalf("requester holds %d orders, want %d", res.held, len(orders))
		}
		total += res.elapsed
		bytesIn += res.bytesIn
	}
	b.ReportMetric(float64(b.N)*float64(len(orders))/total.Seconds(), "orders/s")
	b.ReportMetric(float64(bytesIn)/float64(b.N)/float64(len(orders)), "B/order")
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "sync-ns/op")
}

func BenchmarkSyncFilteredPagination(b *testing.B) { benchmarkSync(b, filteredpagination.Name) }

func BenchmarkSyncOrdinal(b *testing.B) { benchmarkSync(b, ordinal.Name) }

func TestEncodePagesAnySize(t *testing.T) {
	orders := ordergen.Generate(ordergen.Options{Seed: 4, Count: 100, Makers: 2})
	if err := sortByHash(orders); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ orders, perPage, pages int }{
		{100, 500, 2}, // fewer orders than a page: one page, then the complete one
		{100, 30, 5},  // a last page that is not full
		{100, 50, 3},
		{0, 50, 1},
	} {
		pages, err := encodePages(orders[:tc.orders], tc.perPage)
		if err != nil {
			t.Fatalf("%d orders, %d per page: %v", tc.orders, tc.perPage, err)
		}
		if len(pages) != tc.pages {
			t.Errorf("%d orders, %d per page: %d pages, want %d", tc.orders, tc.perPage, len(pages), tc.pages)
		}
		if last := pages[len(pages)-1]; !bytes.Contains(last, []byte(`"orders":[],"complete":true`)) {
			t.Errorf("%d orders, %d per page: last page %s is not the empty complete one", tc.orders, tc.perPage, last)
		}
	}
}

// TestBenchFewerOrdersThanAPage runs the whole bench with --orders below
// --per-page, which used to panic while encoding the transport's pages.
func TestBenchFewerOrdersThanAPage(t *testing.T) {
	cfg := defaultBenchConfig()
	cfg.orders, cfg.perPage, cfg.runs, cfg.resyncOrders = 100, 500, 1, 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if err := runBenchWith(ctx, cfg, &out, &log); err != nil {
		t.Fatalf("runBenchWith: %v\nlog:\n%s", err, log.String())
	}
	if !regexp.MustCompile(`(?m)^sync/limit ratio: [0-9]+\.[0-9]{2}\n\z`).MatchString(out.String()) {
		t.Errorf("the ratio line is not last; output:\n%s", out.String())
	}
}
