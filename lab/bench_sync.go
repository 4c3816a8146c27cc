package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/zeroex"
)

// syncRun says how one measured sync is set up.
type syncRun struct {
	subprotocol string
	perPage     int
	noRateLimit bool
	// tracer gives both ends the Prometheus metrics tracer, on a registry
	// of the run's own.
	tracer bool
	// provided are the provider's orders.
	provided []*zeroex.SignedOrder
	// held are orders the requester holds before the sync (fresh copies,
	// not the provider's objects).
	held   []*zeroex.SignedOrder
	filter *orderfilter.Filter
}

// syncResult is what one measured sync did.
type syncResult struct {
	elapsed time.Duration
	// bytesIn is what the requester read on its ordersync streams.
	bytesIn int64
	// received and added are the orders the requester accepted, and those
	// of them it did not hold yet.
	received, added uint64
	// peakHeap is the highest heap in use during the sync, above the heap
	// in use just before it (provider and requester share the process).
	peakHeap uint64
	// held is how many orders the requester holds after the sync.
	held int
	// cpu is the process's CPU time during the sync.
	cpu time.Duration
}

// measureSync starts a provider and a requester on loopback, connects them
// and times the requester's GetOrders with minPeers 1 until it returns.
func measureSync(ctx context.Context, run syncRun) (syncResult, error) {
	// Both ends speak the one subprotocol measured; the limit that paces
	// the sync, and that run.noRateLimit lifts, is the provider's.
	cfg := cli.SyncNodeConfig{
		Subprotocols: []string{run.subprotocol},
		PerPage:      run.perPage,
		Filter:       run.filter,
	}
	if run.tracer {
		tracer := ordersync.NewMetricsTracer(ordersync.WithRegisterer(prometheus.NewRegistry()))
		cfg.ServiceOpts = []ordersync.Option{ordersync.WithMetricsTracer(tracer)}
	}
	providerCfg, requesterCfg := cfg, cfg
	providerCfg.Name, providerCfg.Orders, providerCfg.NoRateLimit = "provider", run.provided, run.noRateLimit
	requesterCfg.Name, requesterCfg.Orders = "requester", run.held
	provider, err := cli.StartSyncNode(ctx, providerCfg)
	if err != nil {
		return syncResult{}, err
	}
	defer provider.Close()
	requester, err := cli.StartSyncNode(ctx, requesterCfg)
	if err != nil {
		return syncResult{}, err
	}
	defer requester.Close()
	if err := p2phost.Connect(ctx, requester.Host, provider.Host); err != nil {
		return syncResult{}, err
	}

	sampler := startHeapSampler()
	cpu0 := processCPUTime()
	start := time.Now()
	err = requester.Service.GetOrders(ctx, 1)
	elapsed := time.Since(start)
	cpu := processCPUTime() - cpu0
	peak := sampler.stop()
	if err != nil {
		return syncResult{}, fmt.Errorf("%s sync: GetOrders: %w", cli.ShortSubprotocolName(run.subprotocol), err)
	}
	c := requester.Counts()
	return syncResult{
		elapsed:  elapsed,
		bytesIn:  requester.BytesIn(),
		received: uint64(c.OrdersAccepted),
		added:    uint64(c.OrdersNew),
		peakHeap: peak,
		held:     requester.Store.Len(),
		cpu:      cpu,
	}, nil
}

// heapSampler records the highest heap in use (what MemStats calls
// HeapInuse) while it runs, above the level when it started. It reads
// runtime/metrics, which, unlike ReadMemStats, does not stop the world.
type heapSampler struct {
	stopc chan struct{}
	done  chan struct{}
	base  uint64
	peak  uint64
	once  sync.Once
}

var heapInUseMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
}

func readHeapInUse(samples []metrics.Sample) uint64 {
	metrics.Read(samples)
	var sum uint64
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			sum += s.Value.Uint64()
		}
	}
	return sum
}

// startHeapSampler collects garbage (so that the base is what is live) and
// samples the heap every 2 ms until stop.
func startHeapSampler() *heapSampler {
	runtime.GC()
	samples := make([]metrics.Sample, len(heapInUseMetrics))
	for i, name := range heapInUseMetrics {
		samples[i].Name = name
	}
	hs := &heapSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	hs.base = readHeapInUse(samples)
	hs.peak = hs.base
	go func() {
		defer close(hs.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				hs.peak = max(hs.peak, readHeapInUse(samples))
			case <-hs.stopc:
				hs.peak = max(hs.peak, readHeapInUse(samples))
				return
			}
		}
	}()
	return hs
}

// stop ends the sampling and returns the peak above the base.
func (hs *heapSampler) stop() uint64 {
	hs.once.Do(func() { close(hs.stopc) })
	<-hs.done
	return hs.peak - hs.base
}
