package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/zeroex"
)

// resyncMissing are the differences the re-sync table measures: orders
// the provider holds and the requester lacks.
var resyncMissing = []int{0, 1, 10, 100, 1000, 10_000}

// resyncRow is one line of the re-sync table.
type resyncRow struct {
	subprotocol  string
	missing      int
	in, out      int64 // requester's stream bytes read and written
	missingBytes int64 // JSON of the missing orders
	roundTrips   int64
	elapsed      time.Duration
	serving      time.Duration // the provider's time serving requests
	processCPU   time.Duration
}

func (r resyncRow) ratio() float64 {
	if r.missingBytes == 0 {
		return 0
	}
	return float64(r.in+r.out) / float64(r.missingBytes)
}

// runResyncBench measures re-syncs of a requester that lacks d of n
// orders, with reconcile and with v1, and prints the table and its two
// closing lines.
func runResyncBench(ctx context.Context, cfg benchConfig, out, log io.Writer) error {
	n := cfg.resyncOrders
	fmt.Fprintf(log, "re-sync: generating %d signed orders (seed %d)...\n", n, cfg.seed)
	orders := ordergen.Generate(ordergen.Options{Seed: cfg.seed + 1, Count: n, Makers: cli.Makers})
	filter, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		return fmt.Errorf("order filter: %w", err)
	}
	provTimer := new(subTimer)
	provider, err := cli.StartSyncNode(ctx, cli.SyncNodeConfig{
		Name: "provider", Subprotocols: []string{reconcile.Name, filteredpagination.Name}, PerPage: cfg.perPage,
		Filter: filter, Orders: orders, NoRateLimit: true,
		ServiceOpts: []ordersync.Option{ordersync.WithMetricsTracer(provTimer)},
	})
	if err != nil {
		return err
	}
	defer provider.Close()
	class := orderstore.Class{ChainID: int64(filter.ChainID()), Exchange: filter.ExchangeAddress()}
	build := timeIt(func() { provider.Store.ReconcileSnapshot(class, 1) })
	update := measureIndexUpdate(ctx, provider.Store, cfg.seed)

	var rows []resyncRow
	for _, d := range resyncMissing {
		if d > n {
			continue
		}
		held, missingBytes, err := heldExcept(orders, d)
		if err != nil {
			return err
		}
		for _, sub := range []string{reconcile.Name, filteredpagination.Name} {
			fmt.Fprintf(log, "re-sync: %s, %d of %d missing...\n", cli.ShortSubprotocolName(sub), d, n)
			row, err := measureResync(ctx, cfg, provider, provTimer, sub, held, filter, class)
			if err != nil {
				return err
			}
			row.missing, row.missingBytes = d, missingBytes
			rows = append(rows, row)
		}
	}
	writeResyncTable(out, n, rows, build, update)
	for _, r := range rows {
		if r.subprotocol == reconcile.Name && r.missing == 1000 {
			fmt.Fprintf(out, "re-sync/missing bytes ratio: %.3f (n=%d, d=1000)\n", r.ratio(), n)
		}
	}
	for _, r := range rows {
		if r.subprotocol == reconcile.Name && r.missing == 0 {
			fmt.Fprintf(out, "re-sync bytes when in sync: %d (n=%d)\n", r.in+r.out, n)
		}
	}
	return nil
}

// heldExcept returns fresh copies of orders less every len/d-th, and the
// JSON bytes of those left out.
func heldExcept(orders []*zeroex.SignedOrder, d int) ([]*zeroex.SignedOrder, int64, error) {
	keep := make([]*zeroex.SignedOrder, 0, len(orders))
	var missingBytes int64
	every := len(orders) + 1
	if d > 0 {
		every = len(orders) / d
	}
	left := 0
	var buf []byte
	for i, o := range orders {
		if left < d && i%every == 0 {
			left++
			var err error
			if buf, err = o.AppendJSONUncached(buf[:0]); err != nil {
				return nil, 0, err
			}
			missingBytes += int64(len(buf))
			continue
		}
		keep = append(keep, o)
	}
	fresh, err := freshCopies(keep)
	return fresh, missingBytes, err
}

// measureResync runs one re-sync of a requester holding held from the
// provider, speaking sub only, with its store's index built beforehand.
func measureResync(ctx context.Context, cfg benchConfig, provider *cli.SyncNode, provTimer *subTimer, sub string, held []*zeroex.SignedOrder, filter *orderfilter.Filter, class orderstore.Class) (resyncRow, error) {
	requester, err := cli.StartSyncNode(ctx, cli.SyncNodeConfig{
		Name: "requester", Subprotocols: []string{sub}, PerPage: cfg.perPage, Filter: filter, Orders: held,
	})
	if err != nil {
		return resyncRow{}, err
	}
	defer requester.Close()
	requester.Store.ReconcileSnapshot(class, 1) // a live node keeps it current
	if err := p2phost.Connect(ctx, requester.Host, provider.Host); err != nil {
		return resyncRow{}, err
	}
	provTimer.reset()
	cpu0 := processCPUTime()
	start := time.Now()
	err = requester.Service.GetOrders(ctx, 1)
	elapsed := time.Since(start)
	cpu := processCPUTime() - cpu0
	if err != nil {
		return resyncRow{}, fmt.Errorf("re-sync %s: GetOrders: %w", cli.ShortSubprotocolName(sub), err)
	}
	if got := requester.Store.Len(); got != provider.Store.Len() {
		return resyncRow{}, fmt.Errorf("re-sync %s: requester holds %d orders, want %d", cli.ShortSubprotocolName(sub), got, provider.Store.Len())
	}
	st := requester.Service.Stats()
	return resyncRow{
		subprotocol: sub, in: st.BytesRead, out: st.BytesWritten,
		roundTrips: st.Providers[provider.Host.ID()].Pages, elapsed: elapsed,
		serving: provTimer.total(), processCPU: cpu,
	}, nil
}

// measureIndexUpdate is what keeping the index current costs per order
// added or removed: 1 000 orders added and removed again.
func measureIndexUpdate(ctx context.Context, store *orderstore.Memory, seed int64) time.Duration {
	const k = 1000
	extra := ordergen.Generate(ordergen.Options{Seed: seed + 2, Count: k, Makers: cli.Makers})
	hashes := make([]common.Hash, 0, k)
	for _, o := range extra {
		h, _ := o.ComputeOrderHash()
		hashes = append(hashes, h)
	}
	d := timeIt(func() {
		for i := range extra {
			_, _ = store.AddOrders(ctx, extra[i:i+1])
		}
		_, _ = store.Remove(ctx, hashes...)
	})
	plain := orderstore.NewMemory() // the same without an index
	base := timeIt(func() {
		for i := range extra {
			_, _ = plain.AddOrders(ctx, extra[i:i+1])
		}
		_, _ = plain.Remove(ctx, hashes...)
	})
	return max(0, d-base) / (2 * k)
}

func writeResyncTable(w io.Writer, n int, rows []resyncRow, build, update time.Duration) {
	fmt.Fprintf(w, "\nre-sync of a requester missing d of n=%d orders (provider's Memory index built in %v, kept current at %v per order added or removed):\n\n",
		n, build.Round(time.Millisecond), update.Round(100*time.Nanosecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "d\tsubprotocol\tbytes in\tbytes out\tmissing JSON\t(in+out)/missing\tround trips\ttime\tserving\tprocess CPU\t")
	for _, r := range rows {
		ratio := "-"
		if r.missingBytes > 0 {
			ratio = fmt.Sprintf("%.3f", r.ratio())
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t\n", r.missing, cli.ShortSubprotocolName(r.subprotocol),
			r.in, r.out, r.missingBytes, ratio, r.roundTrips, r.elapsed.Round(10*time.Microsecond),
			r.serving.Round(10*time.Microsecond), r.processCPU.Round(time.Millisecond))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nserving: the provider's time from reading each request to writing its response (its metrics tracer's RequestServed);")
	fmt.Fprintln(w, "process CPU: both sides and everything else in this process")
}

func timeIt(fn func()) time.Duration {
	t0 := time.Now()
	fn()
	return time.Since(t0)
}

// subTimer sums, as the provider's metrics tracer, the time it spends
// serving requests.
type subTimer struct {
	ordersync.NoopMetricsTracer
	mu  sync.Mutex
	sum time.Duration
}

// RequestServed adds the time one response took.
func (t *subTimer) RequestServed(_ peer.ID, _ string, d time.Duration, _ int) {
	t.mu.Lock()
	t.sum += d
	t.mu.Unlock()
}

func (t *subTimer) reset() { t.mu.Lock(); t.sum = 0; t.mu.Unlock() }
func (t *subTimer) total() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sum
}
