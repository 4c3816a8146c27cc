package ordersync_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// soakSample is one reading of the soak's process.
type soakSample struct {
	at         time.Duration // since the soak started
	rss        int64
	goroutines int
}

// TestSoak runs a node that re-syncs every second with two peers whose
// books change every second, for ORDERSYNC_SOAK (a duration such as 3m;
// the test is skipped without it; CI runs 3m, see .ci/run). Every 5 s it
// logs the process's RSS and goroutines ("SOAK" lines). It fails if the
// median RSS of the last minute is over 1.10 times that of the second
// minute (RSS swings with the collector, so medians of many samples, not
// two samples), or if the median goroutine count of the last minute is
// more than 5 over that of the second minute. Under 3 minutes, thirds of
// the run stand in for the minutes.
func TestSoak(t *testing.T) {
	setting := os.Getenv("ORDERSYNC_SOAK")
	if setting == "" {
		t.Skip("set ORDERSYNC_SOAK to a duration (CI: 3m) to run the soak")
	}
	runFor, err := time.ParseDuration(setting)
	if err != nil || runFor < 30*time.Second {
		t.Fatalf("ORDERSYNC_SOAK=%q: want a duration of at least 30s", setting)
	}
	const poolSize, bookSize, churn = 3000, 2000, 10
	pool := ordergen.Generate(ordergen.Options{Seed: 31, Count: poolSize})

	hosts := testnet.New(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type peer struct {
		store *orderstore.Memory
		next  int // the next pool order to add; the oldest held is next-bookSize
	}
	serve := func(h int, store *orderstore.Memory) *ordersync.Service {
		node := ordersync.NewHostNode(hosts[h])
		subs := append([]ordersync.Subprotocol{reconcile.New(store, nil, reconcile.WithPeerScorer(node))}, realSubprotocols(store, node)...)
		return ordersync.New(ctx, node, subs, ordersync.WithLogger(testLogger(t)))
	}
	peers := make([]*peer, 2)
	for i := range peers {
		p := &peer{store: orderstore.NewMemory(), next: (i*poolSize/2 + bookSize) % poolSize}
		for j := range bookSize {
			if _, err := p.store.AddOrders(ctx, []*zeroex.SignedOrder{pool[(i*poolSize/2+j)%poolSize]}); err != nil {
				t.Fatal(err)
			}
		}
		serve(1+i, p.store)
		peers[i] = p
	}
	nodeStore := orderstore.NewMemory()
	node := serve(0, nodeStore)

	var (
		mu      sync.Mutex
		samples []soakSample
	)
	start := time.Now()
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Second) // the sampling pace
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s := soakSample{at: time.Since(start), rss: selfRSS(t), goroutines: runtime.NumGoroutine()}
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
			st := node.Stats()
			t.Logf("SOAK t=%4.0fs rss=%6.1fMiB goroutines=%4d held=%5d syncs=%d failed=%d",
				s.at.Seconds(), float64(s.rss)/(1<<20), s.goroutines, nodeStore.Len(), st.SyncsCompleted, st.SyncsFailed)
		}
	}()

	rounds, failed := 0, 0
	tick := time.NewTicker(time.Second) // the node's re-sync pace
	for time.Since(start) < runFor {
		<-tick.C
		// Each peer's book moves on: its oldest orders go, new ones come.
		for _, p := range peers {
			var gone []common.Hash
			var added []*zeroex.SignedOrder
			for k := range churn {
				old := pool[(p.next-bookSize+k+poolSize)%poolSize]
				h, _ := old.ComputeOrderHash()
				gone = append(gone, h)
				added = append(added, pool[(p.next+k)%poolSize])
			}
			if _, err := p.store.Remove(ctx, gone...); err != nil {
				t.Fatal(err)
			}
			if _, err := p.store.AddOrders(ctx, added); err != nil {
				t.Fatal(err)
			}
			p.next = (p.next + churn) % poolSize
		}
		roundCtx, roundCancel := context.WithTimeout(ctx, 30*time.Second)
		if err := node.GetOrders(roundCtx, 2); err != nil {
			failed++
		}
		roundCancel()
		rounds++
	}
	tick.Stop()
	cancel()
	<-sampled

	baseFrom, baseTo, lastFrom := time.Minute, 2*time.Minute, runFor-time.Minute
	if runFor < 3*time.Minute {
		baseFrom, baseTo, lastFrom = runFor/3, 2*runFor/3, 2*runFor/3
	}
	var baseRSS, lastRSS []int64
	var baseG, lastG []int
	for _, s := range samples {
		switch {
		case s.at >= baseFrom && s.at < baseTo:
			baseRSS, baseG = append(baseRSS, s.rss), append(baseG, s.goroutines)
		case s.at >= lastFrom:
			lastRSS, lastG = append(lastRSS, s.rss), append(lastG, s.goroutines)
		}
	}
	if len(baseRSS) == 0 || len(lastRSS) == 0 {
		t.Fatalf("%d samples, none in a window", len(samples))
	}
	base, last := median(baseRSS), median(lastRSS)
	// Goroutines are compared at rest, by each window's fewest: a sample
	// taken while a sync runs counts its goroutines too, and whether the
	// median falls on such samples is chance; a leak raises the floor.
	gBase, gLast := slices.Min(baseG), slices.Min(lastG)
	t.Logf("SOAK RESULT %v: %d re-syncs (%d failed); median RSS %.1f MiB in [%v, %v), %.1f MiB in the last window (x%.3f); goroutines at rest %d, then %d",
		runFor, rounds, failed, float64(base)/(1<<20), baseFrom, baseTo, float64(last)/(1<<20), float64(last)/float64(base), gBase, gLast)
	if float64(last) > 1.10*float64(base) {
		t.Errorf("median RSS grew from %.1f MiB to %.1f MiB, more than 10%%", float64(base)/(1<<20), float64(last)/(1<<20))
	}
	if gLast > gBase+5 {
		t.Errorf("goroutines at rest grew from %d to %d, more than 5", gBase, gLast)
	}
	if failed > rounds/10 {
		t.Errorf("%d of %d re-syncs failed", failed, rounds)
	}
}

func median[T int | int64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// selfRSS is this process's resident set size now (VmRSS).
func selfRSS(t testing.TB) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Error(err)
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
