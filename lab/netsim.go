package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/lab/internal/netsim"
)

// runNetsim is "ordersync-lab netsim": many nodes, each in its own network
// namespace, over shaped and delayed links, until they all hold every
// order. "netsim bench" and the internal "netsim relay" are its
// subcommands.
func runNetsim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "relay":
			return runNetsimRelay(ctx, args[1:], stdout, stderr)
		case "bench":
			return runNetsimBench(ctx, args[1:], stdout, stderr)
		case "source":
			return runNetsimSource(ctx, args[1:], stdout, stderr)
		case "fetch":
			return runNetsimFetch(ctx, args[1:], stdout, stderr)
		case "gossip-node":
			return runNetsimGossipNode(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, err := parseNetsimFlags(args, stderr)
	if err != nil {
		return err
	}
	res, err := simulate(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	if res.workloadErr != nil {
		return res.workloadErr
	}
	if cfg.plot != "" {
		if err := plotRun(cfg.plot, res); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	if res.complete < len(res.nodes) {
		return fmt.Errorf("%d of %d nodes do not hold all %d orders", len(res.nodes)-res.complete, len(res.nodes), res.union)
	}
	return nil
}

// simResult is what a run leaves for the report and the plot.
type simResult struct {
	nodes    []*simNode
	union    int
	complete int
	elapsed  time.Duration
	limit    runLimit
	cfg      netsimConfig
	// workloadErr is why --workload failed: its orders did not all
	// reach every node, or expired ones stayed.
	workloadErr error
}

// simulate sets the network up, runs the nodes until they converge (or the
// deadline, or ctx), prints the report and removes everything.
func simulate(ctx context.Context, cfg netsimConfig, stdout, stderr io.Writer) (*simResult, error) {
	net, dir, progs, err := netsimSetup(ctx, cfg.nodes, cfg.bandwidth, cfg.program, stderr)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer net.Close()

	nodes, plan, err := prepareNodes(cfg, dir, func(i int) string { return net.Addr(i).String() })
	if err != nil {
		return nil, err
	}
	union := plan.union
	limit, err := planLimit(cfg, nodes, plan)
	if err != nil {
		return nil, err
	}
	if err := startRelays(ctx, net, progs.lab, cfg.rtt, cfg.bandwidth, stderr); err != nil {
		return nil, err
	}
	propagation := "subprotocols " + cfg.subs
	if cfg.baseline == baselineGossipSub {
		propagation = "GossipSub flood baseline"
	}
	books := fmt.Sprintf("%d orders each (+%.0f%% of a neighbour's), %d distinct", cfg.orders, cfg.overlap*100, union)
	if union == 0 {
		books = "empty at the start"
	}
	fmt.Fprintf(stderr, "netsim: %d nodes, %s; links %s, rtt %v; %s\n",
		cfg.nodes, books, formatBandwidth(cfg.bandwidth), cfg.rtt, propagation)

	before, err := readCounters(net)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	defer func() {
		for _, n := range nodes {
			n.stop(false)
		}
	}()
	nodeExe := progs.node
	if cfg.baseline == baselineGossipSub {
		nodeExe = progs.lab // its netsim gossip-node
	}
	for _, n := range nodes {
		if err := n.start(ctx, net, nodeExe, stderr, began); err != nil {
			return nil, err
		}
	}
	res := &simResult{nodes: nodes, union: union, limit: limit, cfg: cfg}
	runErr := watch(ctx, cfg, net, nodeExe, res, began, stderr)
	res.elapsed = time.Since(began)
	if runErr == nil {
		var after []netsim.LinkCounters
		if after, runErr = readCounters(net); runErr == nil {
			for i, n := range nodes {
				n.link = after[i].Sub(before[i])
			}
			if union > 0 {
				printNetsimReport(stdout, res)
			}
		}
	}
	if runErr == nil && cfg.workload > 0 && res.complete == len(nodes) {
		// The workload runs on a network that holds what it started
		// with, each node connected to the peers it dials; its line is
		// the run's last.
		if runErr = waitPeers(ctx, nodes, max(1, cfg.bootstrap), began.Add(cfg.deadline)); runErr == nil {
			restart := func(i int) error { return nodes[i].restart(ctx, net, nodeExe, stderr, began) }
			res.workloadErr = runWorkload(ctx, cfg, net, plan.diameter, restart, stdout, stderr)
		}
	}
	for _, n := range nodes {
		n.stop(false)
	}
	if runErr != nil {
		return nil, runErr
	}
	return res, nil
}

// netsimSetup checks that netsim can run, removes what a crashed run left,
// and builds the network. It returns a temporary directory for the run's
// files and the programs to run in the namespaces: this one for the relays,
// the operator's ordersync for the nodes (program, or found or built; see
// findOrdersync).
func netsimSetup(ctx context.Context, nodes int, bandwidth int64, program string, stderr io.Writer) (*netsim.Net, string, programs, error) {
	if err := netsim.Available(); err != nil {
		return nil, "", programs{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, "", programs{}, err
	}
	removed, err := netsim.Cleanup()
	if err != nil {
		return nil, "", programs{}, err
	}
	if len(removed) > 0 {
		fmt.Fprintf(stderr, "netsim: removed %d namespaces an earlier run left behind\n", len(removed))
	}
	dir, err := os.MkdirTemp("", "ordersync-netsim-")
	if err != nil {
		return nil, "", programs{}, err
	}
	node, err := findOrdersync(ctx, program, dir, stderr)
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", programs{}, err
	}
	net, err := netsim.Setup(ctx, netsim.Config{Nodes: nodes, Bandwidth: bandwidth})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", programs{}, err
	}
	return net, dir, programs{lab: exe, node: node}, nil
}

// startRelays starts, in every node's namespace, the relay that delays
// each byte by rtt/2 each way on the way to and from the node, and waits
// until they all listen.
func startRelays(ctx context.Context, net *netsim.Net, exe string, rtt time.Duration, bandwidth int64, stderr io.Writer) error {
	// Enough queue for the link to stay busy through the delay, twice over.
	queued := int64(8 << 20)
	if bandwidth > 0 {
		queued = max(256<<10, 2*bandwidth/8*int64(rtt/2)/int64(time.Second))
	}
	for i := range net.Nodes() {
		cmd := net.Command(ctx, i, exe, "netsim", "relay",
			"--listen", fmt.Sprintf("%s:%d", net.Addr(i), netsimPublicPort),
			"--to", fmt.Sprintf("127.0.0.1:%d", netsimNodePort),
			"--delay", (rtt / 2).String(),
			"--max-queued", strconv.FormatInt(queued, 10))
		cmd.Stderr = stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("relay %d: %w", i, err)
		}
		// The relays end with their namespaces (net.Close kills them);
		// Wait reaps them then.
		go func() { _ = cmd.Wait() }()
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "relay: listening\n" {
			return fmt.Errorf("relay %d did not start (%q, %v)", i, line, err)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
	}
	return nil
}

// watch follows the run until every node holds the union (and the churn
// is over), the deadline passes or ctx ends, restarting nodes for --churn
// and printing progress on stderr.
func watch(ctx context.Context, cfg netsimConfig, net *netsim.Net, exe string, res *simResult, began time.Time, stderr io.Writer) error {
	deadline := time.NewTimer(cfg.deadline)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	churnLeft := cfg.churn
	if cfg.workload > 0 {
		churnLeft = 0 // the workload's churn comes with its orders
	}
	churn := time.NewTimer(cfg.churnEvery)
	defer churn.Stop()
	if churnLeft == 0 {
		churn.Stop()
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.seed), 16))
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted after %v", time.Since(began).Round(100*time.Millisecond))
		case <-deadline.C:
			res.complete = countComplete(res)
			fmt.Fprintf(stderr, "netsim: deadline %v passed\n", cfg.deadline)
			return nil
		case <-progress.C:
			printProgress(stderr, res, began)
		case <-churn.C:
			if err := res.nodes[rng.IntN(len(res.nodes))].restart(ctx, net, exe, stderr, began); err != nil {
				return err
			}
			if churnLeft--; churnLeft > 0 {
				churn.Reset(cfg.churnEvery)
			}
		case <-tick.C:
			for _, n := range res.nodes {
				if err := n.unexpectedExit(); err != nil {
					return err
				}
			}
			if res.complete = countComplete(res); res.complete == len(res.nodes) && churnLeft == 0 {
				return nil
			}
		}
	}
}

// waitPeers waits until every node reports at least want peers, or
// deadline.
func waitPeers(ctx context.Context, nodes []*simNode, want int, deadline time.Time) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		short := 0
		for _, n := range nodes {
			if err := n.unexpectedExit(); err != nil {
				return err
			}
			n.mu.Lock()
			if n.peers < want {
				short++
			}
			n.mu.Unlock()
		}
		if short == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d nodes have fewer than %d peers at the deadline", short, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func countComplete(res *simResult) int {
	complete := 0
	for _, n := range res.nodes {
		if held, _, _, _ := n.totals(); held >= res.union {
			complete++
		}
	}
	return complete
}

func printProgress(w io.Writer, res *simResult, began time.Time) {
	held := make([]int, len(res.nodes))
	for i, n := range res.nodes {
		held[i], _, _, _ = n.totals()
	}
	slices.Sort(held)
	fmt.Fprintf(w, "netsim: %v: %d/%d nodes complete; orders held min %d, median %d, max %d of %d\n",
		time.Since(began).Round(time.Second), countComplete(res), len(res.nodes), held[0], held[len(held)/2], held[len(held)-1], res.union)
}

// printNetsimReport prints the per-node table and the closing line. Bytes
// are those of each node's link (its interface counters).
func printNetsimReport(w io.Writer, res *simResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// "streams in" is what the node itself counted on its ordersync
	// streams: the link's bytes in beyond it are headers, ACKs of what
	// the node sent, Noise, yamux and identify.
	fmt.Fprintln(tw, "node\torders held\tlacked\tbytes in\tstreams in\tbytes out\tin/lacked\trounds\trestarts\t")
	sum := convergenceSummary{complete: res.complete, nodes: len(res.nodes), union: res.union, elapsed: res.elapsed, limit: res.limit}
	for _, n := range res.nodes {
		held, streamsIn, _, rounds := n.totals()
		sum.in = append(sum.in, n.link.RxBytes)
		sum.lacked = append(sum.lacked, n.lackedBytes)
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", n.i, held, formatMB(n.lackedBytes), formatMB(n.link.RxBytes), formatMB(streamsIn), formatMB(n.link.TxBytes),
			formatRatio(n.link.RxBytes, n.lackedBytes), rounds, n.restarts)
	}
	tw.Flush()
	fmt.Fprintln(w, sum)
}

func median(sorted []int64) int64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// formatMB writes a byte count in megabytes (10^6 bytes).
func formatMB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// runNetsimRelay is the relay netsim starts in each node's namespace; it
// prints "relay: listening" once it listens.
func runNetsimRelay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewTextFlagSet("netsim relay", "Usage: ordersync-lab netsim relay --listen HOST:PORT --to HOST:PORT --delay D [--max-queued BYTES]\n\nnetsim's delaying TCP relay (internal).\n\nFlags:\n", stderr)
	listen := fs.String("listen", "", "address to accept connections on")
	to := fs.String("to", "", "address to relay them to")
	delay := fs.Duration("delay", 0, "how long every byte is held, each way")
	queued := fs.Int("max-queued", 1<<20, "bytes held at most per connection and direction")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if *listen == "" || *to == "" || *delay < 0 || *queued < 1 {
		return cli.Usagef("want --listen, --to, a --delay of 0 or more and a positive --max-queued")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "relay: listening")
	return netsim.Relay(ctx, ln, *to, *delay, *queued)
}
