package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
)

// defaultChainID is --chain-id's default when any filter flag is given:
// 0x's Ganache snapshot, which 0x test setups and gen use. --exchange
// defaults to the chain's Exchange.
const defaultChainID = ordergen.DefaultChainID

// syncConfig is sync's command line, checked.
type syncConfig struct {
	peers        cli.PeerAddrs
	out          string
	db           string
	minPeers     int
	subprotocols []string // wire names, preferred first
	filter       *orderfilter.Filter
	timeout      time.Duration
	// update starts from the orders of out, when it exists, and writes
	// back the union.
	update bool
	log    *logrus.Logger
	// limits are the --db database's expiry.
	limits *dbLimits
}

func parseSyncFlags(args []string, stderr io.Writer) (*syncConfig, error) {
	fs, logLevel := cli.NewFlagSet("sync", "--peer MULTIADDR [--peer MULTIADDR ...] (--out FILE | --db DSN [--out FILE]) [--min-peers N] [--subprotocols LIST] [--chain-id N] [--exchange ADDR] [--filter-schema JSON|@FILE] [--timeout D] [--update] [--expiry-margin D]", stderr)
	var cfg syncConfig
	fs.Var(&cfg.peers, "peer", "full `multiaddr` of a peer to sync from, ending in /p2p/<peer ID> (repeat for several peers)")
	fs.StringVar(&cfg.out, "out", "", "`file` to write the accepted orders to, as JSON lines (required without --db)")
	fs.StringVar(&cfg.db, "db", "", dbUsage+"; accepted orders are added to it, and a later sync checks only what it lacks")
	fs.IntVar(&cfg.minPeers, "min-peers", 0, "finish once this many peers have each delivered orders (default: every --peer)")
	subs := fs.String("subprotocols", cli.DefaultSubprotocols, cli.SubprotocolsUsage("subprotocols to offer"))
	chainID := fs.Int("chain-id", defaultChainID, "keep only orders of this chain `ID` (a filter flag)")
	exchange := fs.String("exchange", "", "keep only orders for this exchange `address` (a filter flag; default: the 0x v3 Exchange of --chain-id)")
	schema := fs.String("filter-schema", orderfilter.DefaultCustomOrderSchema, "keep only orders that match this JSON Schema, or the one in the file @`path` (a filter flag; draft-07, may $ref /order, /address, ...)")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "give up after this `duration` (0: never)")
	fs.BoolVar(&cfg.update, "update", false, "start from the orders of --out when it exists (their hashes are checked, their signatures were when they were written), fetch only what is missing, and write back the union")
	cfg.limits = addDBLimitFlags(fs, false)
	if err := cli.ParseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := cfg.limits.check(); err != nil {
		return nil, err
	}
	var err error
	if cfg.log, err = cli.NewLogger(*logLevel, stderr); err != nil {
		return nil, err
	}

	if len(cfg.peers) == 0 {
		return nil, cli.Usagef("at least one --peer is required")
	}
	if cfg.out == "" && cfg.db == "" {
		return nil, cli.Usagef("--out or --db is required")
	}
	switch {
	case cfg.minPeers == 0:
		cfg.minPeers = len(cfg.peers)
	case cfg.minPeers < 0 || cfg.minPeers > len(cfg.peers):
		return nil, cli.Usagef("--min-peers %d: want 1 to the number of peers (%d)", cfg.minPeers, len(cfg.peers))
	}
	if cfg.update && cfg.out == "" {
		return nil, cli.Usagef("--update refreshes --out FILE: --out is required")
	}
	if cfg.timeout < 0 {
		return nil, cli.Usagef("--timeout %v: must not be negative", cfg.timeout)
	}
	if cfg.subprotocols, err = cli.ParseSubprotocols(*subs); err != nil {
		return nil, cli.Usage(fmt.Errorf("--subprotocols %q: %w", *subs, err))
	}

	// No filter flag: keep every order whose signature verifies, whatever
	// its chain. Any filter flag: a full filter, defaults for the rest.
	filtered := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "chain-id", "exchange", "filter-schema":
			filtered = true
		}
	})
	if filtered {
		if cfg.filter, err = buildFilter(*chainID, *exchange, *schema); err != nil {
			return nil, cli.Usage(err)
		}
	}
	return &cfg, nil
}

// maxSchemaSize bounds a schema file: peers bound the request that carries
// the filter to 1 MiB.
const maxSchemaSize = 512 << 10

// buildFilter checks the filter flags and compiles the filter. An empty
// exchange is the chain's Exchange.
func buildFilter(chainID int, exchange, schema string) (*orderfilter.Filter, error) {
	addr, err := cli.ChainExchange(chainID, exchange)
	if err != nil {
		return nil, err
	}
	if path, ok := strings.CutPrefix(schema, "@"); ok {
		data, err := cli.ReadBounded(path, maxSchemaSize)
		if err != nil {
			return nil, fmt.Errorf("--filter-schema: %w", err)
		}
		schema = string(data)
	}
	f, err := orderfilter.New(chainID, schema, addr)
	if err != nil {
		return nil, fmt.Errorf("--filter-schema: %w", err)
	}
	return f, nil
}
