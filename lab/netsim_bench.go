package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/lab/internal/netsim"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// netsimBenchConfig is what netsim bench's flags choose.
type netsimBenchConfig struct {
	// program is the operator's ordersync to run as the nodes ("" finds
	// or builds it: see findOrdersync).
	program   string
	orders    int
	rtt       time.Duration
	bandwidth int64
	perPage   int
	subs      string
	seed      int64
	lanes     int
}

const netsimBenchUsage = `Usage: ordersync-lab netsim bench [flags]

Two nodes, each in its own network namespace, joined by one emulated link
(--bandwidth each way, --rtt round trip; see "ordersync-lab netsim -h"). The
provider holds --orders generated orders; an empty requester syncs them all
at start-up three times: pipelined in --lanes lanes (the default: that many
requests in flight), pipelined in one lane (the next request goes out once
a page has been read), and one page at a time (--no-pipeline, what the
original network's nodes do). Next to it, the link's own limit: the same
number of bytes fetched over the same link on a plain TCP connection. Each
sync's ratio is limit time / sync time; the last line is

  netsim bench: sync/link ratio: X (N lanes), Y (1 lane), Z (one page at a time)

It needs root.

Flags:
`

// runNetsimBench is "ordersync-lab netsim bench".
func runNetsimBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := netsimBenchConfig{orders: 100_000, rtt: 100 * time.Millisecond, bandwidth: 50_000_000, perPage: pagination.DefaultPerPage, subs: cli.DefaultSubprotocols, seed: 1, lanes: ordersync.DefaultLanes}
	fs := cli.NewTextFlagSet("netsim bench", netsimBenchUsage, stderr)
	fs.StringVar(&cfg.program, "ordersync", "", orderSyncUsage)
	fs.IntVar(&cfg.orders, "orders", cfg.orders, "orders the provider holds")
	fs.DurationVar(&cfg.rtt, "rtt", cfg.rtt, "round-trip delay of the link")
	fs.Var(bandwidthFlag{&cfg.bandwidth}, "bandwidth", "rate of the link, each direction: e.g. 50mbit (0: unshaped)")
	fs.IntVar(&cfg.perPage, "per-page", cfg.perPage, cli.PerPageUsage("orders per page the provider serves"))
	fs.StringVar(&cfg.subs, "subprotocols", cfg.subs, cli.SubprotocolsUsage("the requester's subprotocols"))
	fs.Int64Var(&cfg.seed, "seed", cfg.seed, "seed of the generated orders")
	fs.IntVar(&cfg.lanes, "lanes", cfg.lanes, fmt.Sprintf("requests in flight of the first sync, 2 to %d", ordersync.MaxLanes))
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if cfg.lanes < 2 || cfg.lanes > ordersync.MaxLanes {
		return cli.Usagef("--lanes %d: want 2 to %d (the second sync is the one-lane one)", cfg.lanes, ordersync.MaxLanes)
	}
	if cfg.orders < 1 || cfg.orders > benchMaxOrders {
		return cli.Usagef("--orders %d: want 1 to %d", cfg.orders, benchMaxOrders)
	}
	if cfg.rtt < 0 {
		return cli.Usagef("--rtt %v: want 0 or more", cfg.rtt)
	}
	if err := cli.CheckPerPage(cfg.perPage); err != nil {
		return err
	}
	if _, err := cli.ParseSubprotocols(cfg.subs); err != nil {
		return cli.Usage(fmt.Errorf("--subprotocols %q: %w", cfg.subs, err))
	}

	net, dir, progs, err := netsimSetup(ctx, 2, cfg.bandwidth, cfg.program, stderr)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	defer net.Close()
	if err := startRelays(ctx, net, progs.lab, cfg.rtt, cfg.bandwidth, stderr); err != nil {
		return err
	}
	const requester, provider = 0, 1
	ordersFile := filepath.Join(dir, "orders.jsonl")
	orders := ordergen.Generate(ordergen.Options{Seed: cfg.seed, Count: cfg.orders})
	if _, err := cli.WriteOrderFile(ordersFile, slices.Values(orders)); err != nil {
		return err
	}
	keyFile := filepath.Join(dir, "provider.key")
	key, err := cli.LoadOrCreateIdentity(keyFile)
	if err != nil {
		return err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "netsim bench: %d orders over one link of %s each way, rtt %v, %d orders per page, requester's subprotocols %s\n", cfg.orders, formatBandwidth(cfg.bandwidth), cfg.rtt, cfg.perPage, cfg.subs)

	prov := net.Command(ctx, provider, progs.node, "node",
		"--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", netsimNodePort),
		"--announce", fmt.Sprintf("/ip4/%s/tcp/%d", net.Addr(provider), netsimPublicPort),
		"--identity", keyFile, "--orders", ordersFile, "--serve-only", "--per-page", strconv.Itoa(cfg.perPage))
	prov.Stderr = stderr
	provOut, err := prov.StdoutPipe()
	if err != nil {
		return err
	}
	if err := prov.Start(); err != nil {
		return err
	}
	defer func() { _ = prov.Process.Signal(os.Interrupt); _ = prov.Wait() }()
	if _, err := bufio.NewReader(provOut).ReadString('\n'); err != nil {
		return fmt.Errorf("provider did not start: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, provOut) }()

	peerAddr := fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", net.Addr(provider), netsimPublicPort, id)
	type syncRun struct {
		name  string
		bytes int64
		took  time.Duration
	}
	var runs []syncRun
	for _, mode := range []struct {
		name string
		args []string
	}{
		{fmt.Sprintf("%d lanes", cfg.lanes), []string{"--lanes", strconv.Itoa(cfg.lanes)}},
		{"1 lane", []string{"--lanes", "1"}},
		{"one page at a time", []string{"--no-pipeline"}},
	} {
		bytes, took, err := benchSyncOnce(ctx, net, requester, progs.node, peerAddr, cfg.orders, append([]string{"--subprotocols", cfg.subs}, mode.args...), stderr)
		if err != nil {
			return fmt.Errorf("sync, %s: %w", mode.name, err)
		}
		runs = append(runs, syncRun{mode.name, bytes, took})
	}
	_ = prov.Process.Signal(os.Interrupt)
	_ = prov.Wait()

	// The limit: the fewest bytes a sync read (lanes read a little more,
	// the pages that run into the next lane), over the same link and
	// relay.
	limitBytes := runs[0].bytes
	for _, r := range runs {
		limitBytes = min(limitBytes, r.bytes)
	}
	src := net.Command(ctx, provider, progs.lab, "netsim", "source", "--listen", fmt.Sprintf("127.0.0.1:%d", netsimNodePort))
	src.Stderr = stderr
	srcOut, err := src.StdoutPipe()
	if err != nil {
		return err
	}
	if err := src.Start(); err != nil {
		return err
	}
	defer func() { _ = src.Process.Signal(os.Interrupt); _ = src.Wait() }()
	if line, err := bufio.NewReader(srcOut).ReadString('\n'); err != nil || line != "source: listening\n" {
		return fmt.Errorf("source did not start: %q %v", line, err)
	}
	limit := time.Duration(0)
	for range 2 { // the faster of two: the limit is what the link can do
		out, err := net.Command(ctx, requester, progs.lab, "netsim", "fetch",
			"--from", fmt.Sprintf("%s:%d", net.Addr(provider), netsimPublicPort),
			"--bytes", strconv.FormatInt(limitBytes, 10)).Output()
		if err != nil {
			return fmt.Errorf("link limit: %w", err)
		}
		var n int64
		var took time.Duration
		var tookStr string
		if _, err := fmt.Sscanf(string(out), "fetch: %d bytes in %s", &n, &tookStr); err != nil {
			return fmt.Errorf("link limit: fetch said %q", out)
		}
		if took, err = time.ParseDuration(tookStr); err != nil {
			return fmt.Errorf("link limit: fetch said %q", out)
		}
		if limit == 0 || took < limit {
			limit = took
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  link limit\t%s\t%.2fs\t%.1f Mbit/s\t\t\n", formatMB(limitBytes), limit.Seconds(), float64(limitBytes)*8/1e6/limit.Seconds())
	ratios := make([]string, 0, len(runs))
	for _, r := range runs {
		ratio := limit.Seconds() / r.took.Seconds()
		fmt.Fprintf(tw, "  sync, %s\t%s\t%.2fs\t%.1f Mbit/s\t%.0f orders/s\tratio %.2f\n", r.name, formatMB(r.bytes), r.took.Seconds(), float64(r.bytes)*8/1e6/r.took.Seconds(), float64(cfg.orders)/r.took.Seconds(), ratio)
		ratios = append(ratios, fmt.Sprintf("%.2f (%s)", ratio, r.name))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "netsim bench: sync/link ratio: %s\n", strings.Join(ratios, ", "))
	return nil
}

// benchSyncOnce runs an empty requester node against the provider until
// its start-up sync is done, and returns the bytes it read and how long
// the sync took.
func benchSyncOnce(ctx context.Context, net *netsim.Net, i int, exe, peerAddr string, want int, extra []string, stderr io.Writer) (int64, time.Duration, error) {
	args := append([]string{"node", "--listen", "/ip4/127.0.0.1/tcp/0", "--peer", peerAddr, "--min-peers", "1", "--interval", "1h"}, extra...)
	cmd := net.Command(ctx, i, exe, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var peers, held int
		var bytes int64
		var tookStr string
		if _, err := fmt.Sscanf(sc.Text(), "node: start-up sync: peers %d, held %d, bytes in %d, took %s", &peers, &held, &bytes, &tookStr); err != nil {
			continue
		}
		took, err := time.ParseDuration(tookStr)
		if err != nil {
			return 0, 0, fmt.Errorf("requester said %q", sc.Text())
		}
		if held != want {
			return 0, 0, fmt.Errorf("requester holds %d of %d orders after its start-up sync", held, want)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		return bytes, took, nil
	}
	return 0, 0, fmt.Errorf("requester ended before its start-up sync did")
}

// runNetsimSource is netsim bench's byte source (internal); it prints
// "source: listening" once it listens.
func runNetsimSource(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewTextFlagSet("netsim source", "Usage: ordersync-lab netsim source --listen HOST:PORT (internal)\n\nFlags:\n", stderr)
	listen := fs.String("listen", "", "address to serve on")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "source: listening")
	return netsim.Source(ctx, ln)
}

// runNetsimFetch is netsim bench's byte sink (internal): it prints
// "fetch: N bytes in D".
func runNetsimFetch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewTextFlagSet("netsim fetch", "Usage: ordersync-lab netsim fetch --from HOST:PORT --bytes N (internal)\n\nFlags:\n", stderr)
	from := fs.String("from", "", "source address")
	n := fs.Uint64("bytes", 0, "bytes to fetch")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	took, err := netsim.Fetch(ctx, *from, *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fetch: %d bytes in %v\n", *n, took)
	return nil
}
