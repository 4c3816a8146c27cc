package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/lab/internal/netsim"
)

// netsimConfig is what netsim's flags choose.
type netsimConfig struct {
	// program is the operator's ordersync to run as the nodes ("" finds
	// or builds it: see findOrdersync).
	program   string
	nodes     int
	orders    int     // each node's own orders
	overlap   float64 // share of the next node's own orders a node also starts with
	rtt       time.Duration
	bandwidth int64 // bit/s per node link and direction; 0 unshaped
	interval  time.Duration
	minPeers  int
	bootstrap int // bootstrap peers per node
	subs      string
	// noPipeline runs every node with --no-pipeline.
	noPipeline bool
	// noNews runs every node with --no-news: new orders travel by the
	// periodic syncs alone.
	noNews     bool
	mdns       bool          // every node runs with --mdns
	churn      int           // node restarts during the run
	churnEvery time.Duration // time between restarts
	deadline   time.Duration
	plot       string
	seed       int64
	logLevel   string

	// The workload (--workload): new orders a second through the nodes'
	// APIs, for duration; a share of them expiring expireAfter after
	// they are sent; then an idle stretch of at least idle.
	workload     float64
	duration     time.Duration
	expiring     float64
	expireAfter  time.Duration
	idle         time.Duration
	expiryMargin time.Duration // the nodes' --expiry-margin
	// baseline runs other nodes than ordersync's: "" or
	// baselineGossipSub.
	baseline string
}

// baselineGossipSub is --baseline's flood: nodes that propagate the
// workload's orders by GossipSub (netsim gossip-node) instead of ordersync.
const baselineGossipSub = "gossipsub"

// workloadInterval is the nodes' --interval under --workload with news,
// unless --interval says otherwise.
const workloadInterval = 20 * time.Second

func defaultNetsimConfig() netsimConfig {
	return netsimConfig{
		nodes:      16,
		orders:     3000,
		overlap:    0.2,
		rtt:        100 * time.Millisecond,
		bandwidth:  50_000_000,
		interval:   10 * time.Second,
		minPeers:   3,
		bootstrap:  3,
		subs:       cli.DefaultSubprotocols,
		churnEvery: 5 * time.Second,
		deadline:   5 * time.Minute,
		seed:       1,
		logLevel:   "warn",

		duration:    60 * time.Second,
		expiring:    0.1,
		expireAfter: 15 * time.Second,
		idle:        20 * time.Second,
	}
}

// bandwidthFlag reads a rate such as 50mbit, 1gbit, 800kbit or a plain
// number of bit/s.
type bandwidthFlag struct{ bits *int64 }

func (b bandwidthFlag) String() string {
	if b.bits == nil {
		return ""
	}
	return formatBandwidth(*b.bits)
}

func (b bandwidthFlag) Set(s string) error {
	v, err := parseBandwidth(s)
	if err != nil {
		return err
	}
	*b.bits = v
	return nil
}

func parseBandwidth(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f*float64(mult) > 100e9 {
		return 0, fmt.Errorf("bad bandwidth %q (want e.g. 20mbit, 1gbit, or 0 for unshaped)", s)
	}
	return int64(f * float64(mult)), nil
}

func formatBandwidth(bits int64) string {
	switch {
	case bits == 0:
		return "unshaped"
	case bits%1e9 == 0:
		return fmt.Sprintf("%dgbit", bits/1e9)
	case bits%1e6 == 0:
		return fmt.Sprintf("%dmbit", bits/1e6)
	case bits%1e3 == 0:
		return fmt.Sprintf("%dkbit", bits/1e3)
	}
	return fmt.Sprintf("%dbit", bits)
}

const netsimUsage = `Usage: ordersync-lab netsim [flags]
       ordersync-lab netsim bench [flags]

Runs --nodes "ordersync node" processes, each in its own Linux network
namespace, joined by veth pairs to a bridge in a namespace of its own.
Every node link is shaped to --bandwidth in each direction (tc tbf) and
every connection gets --rtt of round trip from a delaying relay in front of
each node. Each node starts with --orders orders of its own, plus --overlap
of the next node's, and gets --bootstrap random peers to dial. The run ends when
every node holds the union of all orders, or at --deadline; it prints per
node the orders held, the bytes of the orders it lacked, the bytes in and
out of its link (its interface counters: every protocol and header) and
sync rounds, and a closing line

  netsim: N/N nodes hold all M orders after T, Q× the limit of L: ...;
  bytes in per node (its link): median X for Y of orders it lacked, R× ...

(one line) and exits 1 unless every node holds them all. The limit is the
slower of verifying every node's missing orders on this machine's cores
(at the rate netsim measures before the run, as bench does) and the
neediest node's link carrying them, plus diameter × rtt. It needs root. Addresses are
in 198.18.0.0/24 inside the namespaces only; everything it made is removed
at the end, also on SIGINT, and leftovers of a crashed run at the start.

With --workload R, netsim first waits for the nodes to converge and
connect, then adds R new orders a second for --duration through the nodes'
JSON-RPC API (mesh_addOrders over WebSocket, each order at a random node;
--expiring of them expire --expire-after later), watches mesh_subscribe
"orders" on every node to time when each order reaches every node, waits
for them to spread (at most --deadline), measures an idle stretch, checks
with mesh_getOrders that no node holds an order 2s past its expiry (plus
--expiry-margin), and ends with one line

  netsim workload: N orders added at R/s over D; reached every node: p50 X s,
  p99 Y s; bytes in per node per new order: Z× its size; idle: W B/s per
  node; expired orders left anywhere: K

(one line; bytes are the links' counters, the mean over the nodes). It
exits 1 unless every order that had not expired reached every node, every
node still holds each of them at the end (mesh_getOrders), and none was
left past its expiry. Without --orders its nodes start empty. With
--churn it kills and restarts a random node every --churn-every while it
adds orders (none is sent to a node that is down); a restarted node
starts empty and must end with every unexpired order again.
With --baseline gossipsub the nodes are the GossipSub flood baseline
(netsim gossip-node: 0x Mesh's way, every order published on one topic,
verified by every node before it forwards and stores it), measured the
same way, for comparison with ordersync on the same machine.

"netsim bench" measures a full sync between two nodes over one emulated
link next to the link's own limit; see "ordersync-lab netsim bench -h".

Flags:
`

// parseNetsimFlags reads netsim's command line. Usage goes to usage.
func parseNetsimFlags(args []string, usage io.Writer) (netsimConfig, error) {
	cfg := defaultNetsimConfig()
	fs := cli.NewTextFlagSet("netsim", netsimUsage, usage)
	fs.StringVar(&cfg.program, "ordersync", "", orderSyncUsage)
	fs.IntVar(&cfg.nodes, "nodes", cfg.nodes, fmt.Sprintf("node processes, 2 to %d", netsim.MaxNodes))
	fs.IntVar(&cfg.orders, "orders", cfg.orders, "generated orders of each node's own")
	fs.Float64Var(&cfg.overlap, "overlap", cfg.overlap, "share, 0 to 1, of the next node's own orders each node also starts with")
	fs.DurationVar(&cfg.rtt, "rtt", cfg.rtt, "round-trip delay added to every connection")
	fs.Var(bandwidthFlag{&cfg.bandwidth}, "bandwidth", "rate of every node link, each direction: e.g. 20mbit (0: unshaped)")
	fs.DurationVar(&cfg.interval, "interval", cfg.interval, "the nodes' --interval between periodic sync rounds (with --workload and news: 20s unless given)")
	fs.IntVar(&cfg.minPeers, "min-peers", cfg.minPeers, "the nodes' --min-peers (at most --nodes - 1)")
	fs.StringVar(&cfg.subs, "subprotocols", cfg.subs, cli.SubprotocolsUsage("every node's subprotocols"))
	fs.BoolVar(&cfg.noPipeline, "no-pipeline", false, "run every node with --no-pipeline (one page at a time, as the original network)")
	fs.BoolVar(&cfg.noNews, "no-news", false, "run every node with --no-news: new orders travel by the periodic syncs alone (reconciliation without the news protocol)")
	fs.IntVar(&cfg.bootstrap, "bootstrap", cfg.bootstrap, "random bootstrap peers each node gets (0 needs --mdns)")
	fs.BoolVar(&cfg.mdns, "mdns", false, "run every node with --mdns: they find each other by multicast on the bridge")
	fs.IntVar(&cfg.churn, "churn", 0, "kill and restart this many random nodes during the run, one every --churn-every")
	fs.DurationVar(&cfg.churnEvery, "churn-every", cfg.churnEvery, "time between churn restarts")
	fs.DurationVar(&cfg.deadline, "deadline", cfg.deadline, "give up after this long")
	fs.StringVar(&cfg.plot, "plot", "", "write a picture of the run to `file` (.svg or .png): orders held per node over time, and bytes in per node")
	fs.Int64Var(&cfg.seed, "seed", cfg.seed, "seed of the orders and the topology")
	fs.StringVar(&cfg.logLevel, "log-level", cfg.logLevel, "the nodes' --log-level (their stderr goes to netsim's)")
	fs.Float64Var(&cfg.workload, "workload", 0, "after the nodes converge, add this many new orders a `second` through their APIs, each at a random node, and time them to every node (0: no workload)")
	fs.DurationVar(&cfg.duration, "duration", cfg.duration, "how long --workload adds orders")
	fs.Float64Var(&cfg.expiring, "expiring", cfg.expiring, "share, 0 to 1, of --workload's orders that expire during the run")
	fs.DurationVar(&cfg.expireAfter, "expire-after", cfg.expireAfter, "how long after it is sent an expiring order expires (rounded up to the second)")
	fs.DurationVar(&cfg.idle, "idle", cfg.idle, "after --workload's orders have spread, measure the links for at least this long with no new orders (at least --interval unless given)")
	fs.DurationVar(&cfg.expiryMargin, "expiry-margin", 0, "the nodes' --expiry-margin")
	fs.StringVar(&cfg.baseline, "baseline", "", `with --workload: "gossipsub" runs the GossipSub flood baseline's nodes (the lab's netsim gossip-node) instead of ordersync node, measured the same way`)
	if err := cli.ParseFlags(fs, args); err != nil {
		return cfg, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.workload > 0 && !set["orders"] {
		cfg.orders = 0 // the workload starts from empty nodes unless told
	}
	if cfg.workload > 0 && !cfg.noNews && !set["interval"] {
		// News carries the new orders; the rounds are only the backstop,
		// and at 10 s they alone cost about 1 400 B/s a node when idle.
		cfg.interval = workloadInterval
	}
	if !set["idle"] && cfg.idle < cfg.interval {
		cfg.idle = cfg.interval // an idle stretch holds at least one round
	}
	minOrders := 1
	if cfg.workload > 0 {
		minOrders = 0
	}
	switch {
	case cfg.nodes < 2 || cfg.nodes > netsim.MaxNodes:
		return cfg, cli.Usagef("--nodes %d: want 2 to %d", cfg.nodes, netsim.MaxNodes)
	case cfg.orders < minOrders || cfg.orders > 1_000_000:
		return cfg, cli.Usagef("--orders %d: want %d to 1000000", cfg.orders, minOrders)
	case cfg.workload < 0 || cfg.workload > 10_000:
		return cfg, cli.Usagef("--workload %v: want 0 to 10000 orders a second", cfg.workload)
	case cfg.workload > 0 && (cfg.duration <= 0 || cfg.workload*cfg.duration.Seconds() < 1):
		return cfg, cli.Usagef("--duration %v: want long enough for at least one order at --workload %v", cfg.duration, cfg.workload)
	case cfg.expiring < 0 || cfg.expiring > 1:
		return cfg, cli.Usagef("--expiring %v: want 0 to 1", cfg.expiring)
	case cfg.expireAfter < 2*time.Second:
		return cfg, cli.Usagef("--expire-after %v: want 2s or more", cfg.expireAfter)
	case cfg.idle <= 0:
		return cfg, cli.Usagef("--idle %v: want a positive duration", cfg.idle)
	case cfg.expiryMargin < 0:
		return cfg, cli.Usagef("--expiry-margin %v: want 0 or more", cfg.expiryMargin)
	case cfg.baseline != "" && cfg.baseline != baselineGossipSub:
		return cfg, cli.Usagef("--baseline %q: want %q", cfg.baseline, baselineGossipSub)
	case cfg.baseline != "" && (cfg.workload == 0 || cfg.orders > 0 || cfg.mdns || cfg.churn > 0):
		return cfg, cli.Usagef("--baseline %s: only with --workload, without --orders, --mdns and --churn (its nodes flood new orders; they do not sync)", cfg.baseline)
	case cfg.overlap < 0 || cfg.overlap > 1:
		return cfg, cli.Usagef("--overlap %v: want 0 to 1", cfg.overlap)
	case cfg.rtt < 0:
		return cfg, cli.Usagef("--rtt %v: want 0 or more", cfg.rtt)
	case cfg.interval <= 0:
		return cfg, cli.Usagef("--interval %v: want a positive duration", cfg.interval)
	case cfg.minPeers < 1:
		return cfg, cli.Usagef("--min-peers %d: want 1 or more", cfg.minPeers)
	case cfg.bootstrap < 0 || (cfg.bootstrap == 0 && !cfg.mdns):
		return cfg, cli.Usagef("--bootstrap %d: want 1 or more, or 0 with --mdns", cfg.bootstrap)
	case cfg.churn < 0:
		return cfg, cli.Usagef("--churn %d: want 0 or more", cfg.churn)
	case cfg.churnEvery <= 0:
		return cfg, cli.Usagef("--churn-every %v: want a positive duration", cfg.churnEvery)
	case cfg.deadline <= 0:
		return cfg, cli.Usagef("--deadline %v: want a positive duration", cfg.deadline)
	}
	if _, err := cli.ParseSubprotocols(cfg.subs); err != nil {
		return cfg, cli.Usage(fmt.Errorf("--subprotocols %q: %w", cfg.subs, err))
	}
	if _, err := cli.NewLogger(cfg.logLevel, io.Discard); err != nil {
		return cfg, err
	}
	if cfg.plot != "" && !strings.HasSuffix(cfg.plot, ".svg") && !strings.HasSuffix(cfg.plot, ".png") {
		return cfg, cli.Usagef("--plot %q: want a file name ending in .svg or .png", cfg.plot)
	}
	cfg.bootstrap = min(cfg.bootstrap, cfg.nodes-1)
	// A node has at most nodes-1 peers. Asking for more would keep every
	// node's start-up GetOrders retrying for ever, and a GetOrders never
	// syncs again with a peer it has synced with: the nodes would only
	// converge if every pair met during start-up.
	cfg.minPeers = min(cfg.minPeers, cfg.nodes-1)
	return cfg, nil
}
