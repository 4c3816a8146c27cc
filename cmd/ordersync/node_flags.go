package main

import (
	"fmt"
	"io"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// nodeConfig is node's command line, checked.
type nodeConfig struct {
	listen   ma.Multiaddr
	announce []ma.Multiaddr // addresses to tell peers instead of listen's
	peers    cli.PeerAddrs
	orders   string // initial orders; "" starts empty
	db       string // sqlstore DSN; "" keeps the orders in memory
	identity string
	minPeers int
	perPage  int
	interval time.Duration
	// subprotocols are wire names, most preferred first.
	subprotocols []string
	// noPipeline turns the requester's pipelining off
	// (ordersync.WithPipelining(false)): one page at a time, as the
	// original network's nodes ask.
	noPipeline bool
	// lanes is how many requests the requester keeps in flight with a
	// provider (ordersync.WithLanes).
	lanes int
	// serveOnly: the node only serves, and never asks for orders.
	serveOnly bool
	// noNews turns the news protocol off: new orders travel by the
	// periodic syncs alone (netsim's comparison).
	noNews bool
	// statusEvery, when positive, prints a status line that often.
	statusEvery time.Duration
	mdns        bool
	monitor     *monitorFlags
	rpc         *rpcFlags
	log         *logrus.Logger
}

// Defaults of node: the network's nodes sync about once a minute.
const (
	defaultNodeInterval = time.Minute
	defaultNodeMinPeers = 3
)

// announceAddrs is a repeatable flag of multiaddrs.
type announceAddrs []ma.Multiaddr

func (a *announceAddrs) String() string { return fmt.Sprint([]ma.Multiaddr(*a)) }

func (a *announceAddrs) Set(s string) error {
	addr, err := ma.NewMultiaddr(s)
	if err != nil {
		return fmt.Errorf("bad multiaddr %q: %v", s, err)
	}
	*a = append(*a, addr)
	return nil
}

func parseNodeFlags(args []string, stderr io.Writer) (*nodeConfig, error) {
	fs, logLevel := cli.NewFlagSet("node", "[--listen MULTIADDR] [--peer MULTIADDR ...] [--orders FILE] [--db DSN] [--min-peers N] [--interval D] [--identity FILE] [--subprotocols LIST] [--mdns] [--rpc ADDR] [--metrics ADDR] [--pprof ADDR]", stderr)
	cfg := &nodeConfig{}
	listen := fs.String("listen", defaultListen, "libp2p `multiaddr` to listen on (port 0 picks a free port)")
	var announce announceAddrs
	fs.Var(&announce, "announce", "`multiaddr` to tell peers to dial instead of the listen addresses (repeatable; for a node behind a relay or NAT)")
	fs.Var(&cfg.peers, "peer", "bootstrap peer `multiaddr` ending in /p2p/ID (repeatable); redialled when the connection drops")
	fs.StringVar(&cfg.orders, "orders", "", "`file` of initial signed orders: JSON lines or one JSON array (default: start empty)")
	fs.StringVar(&cfg.db, "db", "", "keep the orders in a database: sqlite:`PATH` or a postgres:// URL (created or migrated as needed); default in memory, lost at exit")
	fs.StringVar(&cfg.identity, "identity", "", "libp2p private key `file` that keeps the peer ID across runs (created, mode 0600, if missing); default a fresh identity each run")
	fs.IntVar(&cfg.minPeers, "min-peers", 0, fmt.Sprintf("peers each sync round must complete with (default: the number of --peer, at most %d, at least 1)", defaultNodeMinPeers))
	fs.IntVar(&cfg.perPage, "per-page", pagination.DefaultPerPage, cli.PerPageUsage("orders per page served to peers"))
	fs.DurationVar(&cfg.interval, "interval", defaultNodeInterval, "approximate `delay` between periodic sync rounds (10% jitter; a sixteenth of it after a round that brought 100 or more new orders)")
	subs := fs.String("subprotocols", cli.DefaultSubprotocols, cli.SubprotocolsUsage("subprotocols to offer and ask for"))
	fs.BoolVar(&cfg.noPipeline, "no-pipeline", false, "ask for one page at a time, as the original network's nodes do")
	fs.IntVar(&cfg.lanes, "lanes", ordersync.DefaultLanes, fmt.Sprintf("requests to keep in flight with a provider when paging: lanes of the hash space paged side by side, 1 to %d (1: one page ahead; ignored with --no-pipeline)", ordersync.MaxLanes))
	fs.BoolVar(&cfg.serveOnly, "serve-only", false, "only serve the store: never ask peers for orders (a bench's provider)")
	fs.BoolVar(&cfg.noNews, "no-news", false, "do not announce new orders to neighbours or fetch theirs (the news protocol): they travel by the periodic syncs alone")
	fs.DurationVar(&cfg.statusEvery, "status-every", 0, "also print a status line on stdout this often (0: only one line per round)")
	fs.BoolVar(&cfg.mdns, "mdns", false, "discover and connect to peers on the local network with mDNS (multicast on every interface)")
	cfg.monitor = addMonitorFlags(fs)
	cfg.rpc = addRPCFlags(fs)
	if err := cli.ParseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := cfg.monitor.check(); err != nil {
		return nil, err
	}
	if err := cfg.rpc.check(); err != nil {
		return nil, err
	}
	addr, err := ma.NewMultiaddr(*listen)
	if err != nil {
		return nil, cli.Usagef("--listen %q: bad multiaddr: %v", *listen, err)
	}
	cfg.listen, cfg.announce = addr, announce
	switch {
	case cfg.minPeers == 0:
		cfg.minPeers = max(1, min(defaultNodeMinPeers, len(cfg.peers)))
	case cfg.minPeers < 0:
		return nil, cli.Usagef("--min-peers %d: want a positive number", cfg.minPeers)
	}
	if err := cli.CheckPerPage(cfg.perPage); err != nil {
		return nil, err
	}
	if err := ordersync.CheckOptions(ordersync.WithLanes(cfg.lanes)); err != nil {
		return nil, cli.Usagef("--lanes %d: want 1 to %d", cfg.lanes, ordersync.MaxLanes)
	}
	if cfg.interval <= 0 {
		return nil, cli.Usagef("--interval %v: want a positive duration", cfg.interval)
	}
	if cfg.statusEvery < 0 {
		return nil, cli.Usagef("--status-every %v: want a positive duration or 0", cfg.statusEvery)
	}
	if cfg.subprotocols, err = cli.ParseSubprotocols(*subs); err != nil {
		return nil, cli.Usage(fmt.Errorf("--subprotocols %q: %w", *subs, err))
	}
	if cfg.log, err = cli.NewLogger(*logLevel, stderr); err != nil {
		return nil, err
	}
	return cfg, nil
}
