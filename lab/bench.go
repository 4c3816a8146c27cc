package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/zeroex"
)

// runBench is "ordersync-lab bench": how fast a verified sync runs, next to the
// two limits it cannot beat (the transport and signature verification),
// with the same orders throughout.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return runBenchWith(ctx, cfg, stdout, stderr)
}

// benchRow is one line of the bench's table.
type benchRow struct {
	name      string
	orders    int
	elapsed   time.Duration
	bytes     int64
	heap      uint64
	hasHeap   bool
	ordersNew uint64
	hasNew    bool
	// cpu is the process's CPU time during the measurement.
	cpu time.Duration
	// runs holds the orders/s of every run of a repeated measurement,
	// ascending; the row's own figures are those of the median run.
	runs []float64
}

func (r benchRow) ordersPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.orders) / r.elapsed.Seconds()
}

func (r benchRow) ordersPerCPUSec() float64 {
	if r.cpu <= 0 {
		return 0
	}
	return float64(r.orders) / r.cpu.Seconds()
}

// runBenchWith runs every measurement, printing what it is doing to log
// and the table and the ratio line to out.
func runBenchWith(ctx context.Context, cfg benchConfig, out, log io.Writer) error {
	fmt.Fprintf(log, "generating %d signed orders (seed %d)...\n", cfg.orders, cfg.seed)
	orders := ordergen.Generate(ordergen.Options{Seed: cfg.seed, Count: cfg.orders, Makers: cli.Makers})
	if err := sortByHash(orders); err != nil {
		return err
	}
	filter, err := orderfilter.NewDefaultForChain(ordergen.DefaultChainID)
	if err != nil {
		return fmt.Errorf("order filter: %w", err)
	}
	var rows []benchRow

	// Memory first, while nothing else in the process is freeing memory.
	fmt.Fprintf(log, "memory: decoding, hashing, storing and encoding %d orders...\n", cfg.orders)
	mem, err := measureOrderMemory(ctx, orders)
	if err != nil {
		return fmt.Errorf("memory per order: %w", err)
	}

	// 1 and 2 are the limits a sync cannot beat. They are measured as the
	// syncs are, cfg.runs times each and reported by the median run: a
	// best-of limit against a median sync would count every moment of load
	// from elsewhere on the machine against the sync alone.
	fmt.Fprintf(log, "1/4 transport: pushing the encoded pages over one stream (%d runs)...\n", cfg.runs)
	pages, err := encodePages(orders, cfg.perPage)
	if err != nil {
		return fmt.Errorf("encoding pages: %w", err)
	}
	transportRuns := make([]benchRow, 0, cfg.runs)
	for range cfg.runs {
		cpu0 := processCPUTime()
		tr, err := measureTransport(ctx, pages)
		if err != nil {
			return err
		}
		transportRuns = append(transportRuns, benchRow{orders: cfg.orders, elapsed: tr.elapsed, cpu: processCPUTime() - cpu0, bytes: tr.bytes})
	}
	transport := medianRow(transportRuns)
	transport.name = "1. transport (one stream, no decoding)"
	rows = append(rows, transport)
	pages = nil

	fmt.Fprintf(log, "2/4 verification: hashes and signatures on %d cores (%d runs)...\n", runtime.GOMAXPROCS(0), cfg.runs)
	verifyRuns := make([]benchRow, 0, cfg.runs)
	for range cfg.runs {
		// Fresh copies each time: VerifySignatures caches hashes.
		fresh, err := freshCopies(orders)
		if err != nil {
			return fmt.Errorf("copying orders: %w", err)
		}
		cpu0 := processCPUTime()
		elapsed, err := measureVerify(fresh)
		if err != nil {
			return err
		}
		verifyRuns = append(verifyRuns, benchRow{orders: cfg.orders, elapsed: elapsed, cpu: processCPUTime() - cpu0})
	}
	verify := medianRow(verifyRuns)
	verify.name = fmt.Sprintf("2. verification (hash+signature, %d cores)", runtime.GOMAXPROCS(0))
	rows = append(rows, verify)

	// 3. Full syncs, and 4. re-syncs with 99% held: each run cfg.runs
	// times, reported by its median run, with the spread of all of them.
	// The metrics tracer's cost is the lifted sync again with the
	// Prometheus tracer on, right after it; best is of the syncs without.
	var best benchRow
	var tracerCost []string
	for _, sub := range cli.PaginationPreference() {
		var off benchRow
		for _, v := range []struct{ lifted, tracer bool }{{false, false}, {true, false}, {true, true}} {
			limit := "default rate limit"
			if v.lifted {
				limit = "rate limit lifted"
			}
			if v.tracer {
				limit += ", metrics tracer on"
			}
			fmt.Fprintf(log, "3/4 full sync, %s, %s (%d runs)...\n", cli.ShortSubprotocolName(sub), limit, cfg.runs)
			row, err := measureSyncRuns(ctx, cfg.runs, syncRun{
				subprotocol: sub, perPage: cfg.perPage, noRateLimit: v.lifted, tracer: v.tracer,
				provided: orders, filter: filter,
			}, func(res syncResult) error {
				if res.held != cfg.orders {
					return fmt.Errorf("full sync %s, %s: requester holds %d orders, want %d", cli.ShortSubprotocolName(sub), limit, res.held, cfg.orders)
				}
				return nil
			})
			if err != nil {
				return err
			}
			row.name = fmt.Sprintf("3. full sync %s, %s", cli.ShortSubprotocolName(sub), limit)
			rows = append(rows, row)
			switch {
			case v.tracer && off.ordersPerSec() > 0:
				tracerCost = append(tracerCost, fmt.Sprintf("%s %.0f orders/s on, %.0f off (%+.1f%%)",
					cli.ShortSubprotocolName(sub), row.ordersPerSec(), off.ordersPerSec(), 100*(row.ordersPerSec()/off.ordersPerSec()-1)))
			case v.lifted:
				off = row
				if row.ordersPerSec() > best.ordersPerSec() {
					best = row
				}
			}
		}
	}

	held, missing, err := heldShare(orders, cfg.resyncHeld)
	if err != nil {
		return err
	}
	for _, sub := range cli.PaginationPreference() {
		fmt.Fprintf(log, "4/4 re-sync, %s, requester holds %d of %d (%d runs)...\n", cli.ShortSubprotocolName(sub), len(held), cfg.orders, cfg.runs)
		row, err := measureSyncRuns(ctx, cfg.runs, syncRun{
			subprotocol: sub, perPage: cfg.perPage, noRateLimit: true,
			provided: orders, held: held, filter: filter,
		}, func(res syncResult) error {
			if res.held != cfg.orders || res.added != uint64(missing) {
				return fmt.Errorf("re-sync %s: requester added %d orders and holds %d, want %d and %d",
					cli.ShortSubprotocolName(sub), res.added, res.held, missing, cfg.orders)
			}
			return nil
		})
		if err != nil {
			return err
		}
		row.name = fmt.Sprintf("4. re-sync %s, %.0f%% held, rate limit lifted", cli.ShortSubprotocolName(sub), 100*cfg.resyncHeld)
		rows = append(rows, row)
	}

	writeBenchTable(out, cfg, rows)
	fmt.Fprintf(out, "memory held per order (live heap): requester %d B (order %d, hash %d, store %d); provider %d B (+ cached encoding %d)\n",
		mem.requester(), mem.order, mem.hash, mem.store, mem.provider(), mem.encoding)
	limit := min(transport.ordersPerSec(), verify.ordersPerSec())
	ratio := 0.0
	if limit > 0 {
		ratio = best.ordersPerSec() / limit
	}
	fmt.Fprintf(out, "best sync: %s at %.0f orders/s (median of %d runs, %s); limit: %.0f orders/s (the smaller of 1 and 2, medians too)\n",
		best.name, best.ordersPerSec(), len(best.runs), best.spread(), limit)
	if cpuLimit := min(transport.ordersPerCPUSec(), verify.ordersPerCPUSec()); cpuLimit > 0 && best.cpu > 0 {
		// Wall-clock rates move with the machine's load; rates per CPU
		// second much less so.
		fmt.Fprintf(out, "same ratio per CPU second (steadier on a busy machine; median run): %.2f (%.0f over %.0f orders per CPU second)\n",
			best.ordersPerCPUSec()/cpuLimit, best.ordersPerCPUSec(), cpuLimit)
	}
	if len(tracerCost) > 0 {
		fmt.Fprintf(out, "metrics tracer (rate limit lifted, medians): %s\n", strings.Join(tracerCost, "; "))
	}
	fmt.Fprintf(out, "sync/limit ratio: %.2f\n", ratio)
	if cfg.resyncOrders > 0 {
		return runResyncBench(ctx, cfg, out, log)
	}
	return nil
}

// measureSyncRuns runs the sync n times, checking each result with check,
// and returns the row of the median run (by orders/s) with every run's
// orders/s in runs. A sync's first run may pay for the provider's encodings,
// which later runs find cached: the median is not moved by one such run.
func measureSyncRuns(ctx context.Context, n int, run syncRun, check func(syncResult) error) (benchRow, error) {
	rows := make([]benchRow, 0, n)
	for range n {
		res, err := measureSync(ctx, run)
		if err != nil {
			return benchRow{}, err
		}
		if err := check(res); err != nil {
			return benchRow{}, err
		}
		rows = append(rows, benchRow{
			orders: int(res.received), elapsed: res.elapsed, bytes: res.bytesIn,
			heap: res.peakHeap, hasHeap: true, ordersNew: res.added, hasNew: true, cpu: res.cpu,
		})
	}
	return medianRow(rows), nil
}

// medianRow returns the row of the median of rows by orders/s (the slower
// middle one of an even number), with runs set to all of their orders/s.
func medianRow(rows []benchRow) benchRow {
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b benchRow) int { return cmp.Compare(a.ordersPerSec(), b.ordersPerSec()) })
	med := sorted[(len(sorted)-1)/2]
	med.runs = make([]float64, len(sorted))
	for i, r := range sorted {
		med.runs[i] = r.ordersPerSec()
	}
	return med
}

// spread says how far apart a repeated measurement's runs were: the range
// of their orders/s and its size relative to the median.
func (r benchRow) spread() string {
	if len(r.runs) < 2 {
		return "one run"
	}
	lo, hi := r.runs[0], r.runs[len(r.runs)-1]
	rel := 0.0
	if m := r.ordersPerSec(); m > 0 {
		rel = 100 * (hi - lo) / m
	}
	return fmt.Sprintf("%.0f–%.0f, ±%.0f%%", lo, hi, rel/2)
}

// writeBenchTable prints the measurements.
func writeBenchTable(w io.Writer, cfg benchConfig, rows []benchRow) {
	fmt.Fprintf(w, "\n%d orders, %d per page, GOMAXPROCS %d, provider and requester in this process on 127.0.0.1\n\n",
		cfg.orders, cfg.perPage, runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\torders\ttime\torders/s\truns: orders/s\tMB/s\tbytes/order\tnew orders\tpeak heap\tCPU time")
	for _, r := range rows {
		mbps, perOrder, heap, added, cpu, runs := "-", "-", "-", "-", "-", "-"
		if len(r.runs) > 0 {
			runs = r.spread()
		}
		if r.bytes > 0 && r.elapsed > 0 {
			mbps = fmt.Sprintf("%.1f", float64(r.bytes)/1e6/r.elapsed.Seconds())
		}
		if r.bytes > 0 && r.orders > 0 {
			perOrder = fmt.Sprintf("%.0f", float64(r.bytes)/float64(r.orders))
		}
		if r.hasHeap {
			heap = fmt.Sprintf("%.1f MB", float64(r.heap)/1e6)
		}
		if r.hasNew {
			added = fmt.Sprintf("%d", r.ordersNew)
		}
		if r.cpu > 0 {
			cpu = cli.FormatDuration(r.cpu)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.name, r.orders, cli.FormatDuration(r.elapsed), r.ordersPerSec(), runs, mbps, perOrder, added, heap, cpu)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nevery row: the median of %d runs (its time, orders/s, heap and CPU),\n", cfg.runs)
	fmt.Fprintln(w, "with the lowest and highest orders/s of all of them and half their distance from the median;")
	fmt.Fprintln(w, "bytes: ordersync stream bytes the requester read (before muxer and security framing);")
	fmt.Fprintln(w, "peak heap: process heap in use above its level before the sync (provider and requester share it);")
	fmt.Fprintln(w, "CPU time: this process's user+system time during the measurement (more than the time when cores")
	fmt.Fprintln(w, "run in parallel; less when other processes hold the cores).")
	pages := (cfg.orders+cfg.perPage-1)/cfg.perPage + 1
	fmt.Fprintf(w, "default rate limit: %d requests of a lone requester at %.0f/s (burst %d, the whole shared rate) need at least %.1fs.\n",
		pages, float64(ordersync.DefaultRateLimit), ordersync.DefaultRateBurst,
		max(0, float64(pages-ordersync.DefaultRateBurst)/float64(ordersync.DefaultRateLimit)))
	fmt.Fprintln(w)
}

// sortByHash sorts orders by order hash, ascending, as a provider serves
// them.
func sortByHash(orders []*zeroex.SignedOrder) error {
	keys := make(map[*zeroex.SignedOrder]string, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			return fmt.Errorf("hash of generated order %d: %w", i, err)
		}
		keys[o] = string(h[:])
	}
	sort.Slice(orders, func(i, j int) bool { return keys[orders[i]] < keys[orders[j]] })
	return nil
}

// heldShare returns fresh copies of the given share of the orders (every
// order but an evenly spread few) and how many it left out.
func heldShare(orders []*zeroex.SignedOrder, share float64) ([]*zeroex.SignedOrder, int, error) {
	leaveOut := len(orders) - int(share*float64(len(orders)))
	every := len(orders)
	if leaveOut > 0 {
		every = len(orders) / leaveOut
	}
	var keep []*zeroex.SignedOrder
	left := 0
	for i, o := range orders {
		if left < leaveOut && i%every == 0 {
			left++
			continue
		}
		keep = append(keep, o)
	}
	fresh, err := freshCopies(keep)
	if err != nil {
		return nil, 0, fmt.Errorf("copying held orders: %w", err)
	}
	return fresh, left, nil
}
