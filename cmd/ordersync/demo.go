package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/zeroex"
)

// runDemo is "ordersync demo": a small network in this process that syncs
// generated orders, shows it live, prints a table per node and checks that
// every requester ends with exactly the union of the providers' orders.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseDemoFlags(args, stderr)
	if err != nil {
		return err
	}
	interactive := isTerminal(stderr)
	res, err := runDemoNetwork(ctx, cfg, stderr, interactive)
	if err != nil {
		return err
	}
	res.writeTable(stdout)
	if err := res.check(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: every requester holds exactly the %d orders of the providers' union\n", len(res.union))
	return nil
}

// demoResult is what a demo run leaves to print and check.
type demoResult struct {
	cfg        demoConfig
	providers  []*demoPeer
	requesters []*demoPeer
	union      map[common.Hash]struct{}
	elapsed    time.Duration
}

// demoPeer is a node of the demo and how its syncs went.
type demoPeer struct {
	*cli.SyncNode
	role string
	// getOrders is how long GetOrders took; round how long the
	// PeriodicallyGetOrders round after it took.
	getOrders, round time.Duration
	err              error
	// watch tells when its PeriodicallyGetOrders round is over.
	watch *roundWatch
	// step is where the requester is (one of the step constants), for the
	// progress display; receivedBefore is what it had received when
	// GetOrders returned.
	step           atomic.Int32
	receivedBefore atomic.Int64
	// bytesGetOrders and sentGetOrders are the stream bytes it had read
	// and written when GetOrders returned: the periodic round's cost is
	// what came after.
	bytesGetOrders, sentGetOrders int64
}

// The steps of a requester.
const (
	stepGetOrders int32 = iota
	stepRound
	stepDone
	stepFailed
)

// note says where the requester is, for the progress display. In the
// periodic round it holds every order already, so it counts what it
// receives again.
func (p *demoPeer) note() string {
	switch p.step.Load() {
	case stepGetOrders:
		return "GetOrders"
	case stepRound:
		return fmt.Sprintf("periodic round, %d received again", p.Counts().OrdersReceived-p.receivedBefore.Load())
	case stepDone:
		return "done"
	}
	return "FAILED"
}

// runDemoNetwork starts the nodes, runs the requesters' syncs with live
// progress on progressOut, and returns once every requester is done. It
// fails only if the network cannot be set up; how the syncs went is in the
// result, for check.
func runDemoNetwork(ctx context.Context, cfg demoConfig, progressOut io.Writer, interactive bool) (*demoResult, error) {
	start := time.Now()
	shared := int(float64(cfg.orders) * cfg.overlap)
	fmt.Fprintf(progressOut, "generating 2 x %d signed orders (%d shared, %d maker keys, seed %d)...\n",
		cfg.orders, shared, cli.Makers, cfg.seed)
	genOpts := ordergen.Options{Seed: cfg.seed, Makers: cli.Makers}
	setA, setB := ordergen.Overlapping(genOpts, cfg.orders, shared)
	union, err := unionOf(setA, setB)
	if err != nil {
		return nil, err
	}
	filter, err := orderfilter.NewDefaultForChain(ordergen.DefaultChainID)
	if err != nil {
		return nil, fmt.Errorf("order filter: %w", err)
	}

	res := &demoResult{cfg: cfg, union: union}
	defer func() {
		// The result keeps stores and stats; hosts and services must go.
		for _, p := range append(append([]*demoPeer(nil), res.providers...), res.requesters...) {
			p.Close()
		}
	}()
	// Every node speaks the same subprotocols with the same filter and
	// pages; providers differ by their orders, requesters by the watch on
	// their periodic round.
	base := cli.SyncNodeConfig{
		Subprotocols: cfg.subprotocols,
		PerPage:      cfg.perPage,
		Filter:       filter,
		NoRateLimit:  cfg.noRateLimit,
	}
	for i, set := range [][]*zeroex.SignedOrder{setA, setB} {
		nc := base
		nc.Name, nc.Orders = fmt.Sprintf("node-%d", i+1), set
		n, err := cli.StartSyncNode(ctx, nc)
		if err != nil {
			return nil, err
		}
		res.providers = append(res.providers, &demoPeer{SyncNode: n, role: "provider"})
	}
	for i := len(res.providers); i < cfg.nodes; i++ {
		watch := newRoundWatch()
		nc := base
		nc.Name, nc.ServiceOpts = fmt.Sprintf("node-%d", i+1), []ordersync.Option{watch.option()}
		n, err := cli.StartSyncNode(ctx, nc)
		if err != nil {
			return nil, err
		}
		res.requesters = append(res.requesters, &demoPeer{SyncNode: n, role: "requester", watch: watch})
	}
	// Requesters connect to both providers and to nothing else, so that
	// GetOrders with minPeers 2 (every provider) must sync with both of
	// them, and what a requester ends with is exactly the union.
	for _, r := range res.requesters {
		for _, p := range res.providers {
			if err := p2phost.Connect(ctx, r.Host, p.Host); err != nil {
				return nil, err
			}
		}
	}
	fmt.Fprint(progressOut, rateLimitNote(cfg))

	names := make([]string, len(res.requesters))
	counts := make([]func() int64, len(res.requesters))
	notes := make([]func() string, len(res.requesters))
	for i, r := range res.requesters {
		names[i] = r.Name
		counts[i] = func() int64 { return int64(r.Store.Len()) }
		notes[i] = r.note
	}
	interval := time.Second
	if interactive {
		interval = 100 * time.Millisecond
	}
	prog := newProgress(progressOut, interactive, names, counts, notes, int64(len(union)), interval)
	minPeers := len(res.providers)
	var wg sync.WaitGroup
	for _, r := range res.requesters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.getOrders, r.round, r.err = runRequester(ctx, r, minPeers)
		}()
	}
	wg.Wait()
	prog.Stop()
	res.elapsed = time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// runRequester runs GetOrders and then one round of PeriodicallyGetOrders,
// and says how long each took.
func runRequester(ctx context.Context, n *demoPeer, minPeers int) (getOrders, round time.Duration, err error) {
	t0 := time.Now()
	if err := n.Service.GetOrders(ctx, minPeers); err != nil {
		n.step.Store(stepFailed)
		return time.Since(t0), 0, fmt.Errorf("GetOrders: %w", err)
	}
	getOrders = time.Since(t0)
	n.receivedBefore.Store(n.Counts().OrdersReceived)
	st := n.Service.Stats()
	n.bytesGetOrders, n.sentGetOrders = st.BytesRead, st.BytesWritten
	n.step.Store(stepRound)
	t1 := time.Now()
	if err := periodicRound(ctx, n.SyncNode, n.watch, minPeers); err != nil {
		n.step.Store(stepFailed)
		return getOrders, time.Since(t1), fmt.Errorf("PeriodicallyGetOrders: %w", err)
	}
	n.step.Store(stepDone)
	return getOrders, time.Since(t1), nil
}

// rateLimitNote says which request rate limits the providers keep, and
// the least time they impose, so that the times in the table read right.
func rateLimitNote(cfg demoConfig) string {
	if cfg.noRateLimit {
		return "providers' request rate limits lifted (--no-rate-limit)\n"
	}
	// Each requester asks each provider for every page plus the final
	// empty one, twice (GetOrders, then the periodic round).
	perPeer := 2 * ((cfg.orders+cfg.perPage-1)/cfg.perPage + 1)
	requests := perPeer * (cfg.nodes - 2)
	shared := float64(requests-ordersync.DefaultRateBurst) / float64(ordersync.DefaultRateLimit)
	return fmt.Sprintf("providers keep the default request rate limit: %.0f/s, burst %d, shared fairly by all peers\n"+
		"  (the network's rate); serving %d requests each, they need at least %.1fs (--no-rate-limit lifts it)\n",
		float64(ordersync.DefaultRateLimit), ordersync.DefaultRateBurst, requests, max(0, shared))
}

// check returns an error naming every requester whose sync failed or that
// does not hold exactly the providers' union.
func (r *demoResult) check(ctx context.Context) error {
	var errs []error
	for _, p := range r.requesters {
		if p.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name, p.err))
		}
		if err := checkHoldsExactly(ctx, p.Store, r.union); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}
