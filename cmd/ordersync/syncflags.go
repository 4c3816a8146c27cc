package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/zeroex"
)

// defaultChainID is --chain-id's default when any filter flag is given:
// 0x's Ganache snapshot, which 0x test setups and gen use. --exchange
// defaults to the chain's Exchange.
const defaultChainID = ordergen.DefaultChainID

// syncConfig is sync's command line, checked.
type syncConfig struct {
	peers        peerAddrs
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
}

func parseSyncFlags(args []string, stderr io.Writer) (*syncConfig, error) {
	fs, logLevel := newFlagSet("sync", "--peer MULTIADDR [--peer MULTIADDR ...] (--out FILE | --db DSN [--out FILE]) [--min-peers N] [--subprotocols LIST] [--chain-id N] [--exchange ADDR] [--filter-schema JSON|@FILE] [--timeout D] [--update]", stderr)
	var cfg syncConfig
	fs.Var(&cfg.peers, "peer", "full `multiaddr` of a peer to sync from, ending in /p2p/<peer ID> (repeat for several peers)")
	fs.StringVar(&cfg.out, "out", "", "`file` to write the accepted orders to, as JSON lines (required without --db)")
	fs.StringVar(&cfg.db, "db", "", dbUsage+"; accepted orders are added to it, and a later sync checks only what it lacks")
	fs.IntVar(&cfg.minPeers, "min-peers", 0, "finish once this many peers have each delivered orders (default: every --peer)")
	subs := fs.String("subprotocols", defaultSubprotocols, subprotocolsUsage("subprotocols to offer"))
	chainID := fs.Int("chain-id", defaultChainID, "keep only orders of this chain `ID` (a filter flag)")
	exchange := fs.String("exchange", "", "keep only orders for this exchange `address` (a filter flag; default: the 0x v3 Exchange of --chain-id)")
	schema := fs.String("filter-schema", orderfilter.DefaultCustomOrderSchema, "keep only orders that match this JSON Schema, or the one in the file @`path` (a filter flag; draft-07, may $ref /order, /address, ...)")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "give up after this `duration` (0: never)")
	fs.BoolVar(&cfg.update, "update", false, "start from the orders of --out when it exists (their hashes are checked, their signatures were when they were written), fetch only what is missing, and write back the union")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	var err error
	if cfg.log, err = newLogger(*logLevel, stderr); err != nil {
		return nil, err
	}

	if len(cfg.peers) == 0 {
		return nil, usagef("at least one --peer is required")
	}
	if cfg.out == "" && cfg.db == "" {
		return nil, usagef("--out or --db is required")
	}
	switch {
	case cfg.minPeers == 0:
		cfg.minPeers = len(cfg.peers)
	case cfg.minPeers < 0 || cfg.minPeers > len(cfg.peers):
		return nil, usagef("--min-peers %d: want 1 to the number of peers (%d)", cfg.minPeers, len(cfg.peers))
	}
	if cfg.update && cfg.out == "" {
		return nil, usagef("--update refreshes --out FILE: --out is required")
	}
	if cfg.timeout < 0 {
		return nil, usagef("--timeout %v: must not be negative", cfg.timeout)
	}
	if cfg.subprotocols, err = parseSubprotocols(*subs); err != nil {
		return nil, usageError{fmt.Errorf("--subprotocols %q: %w", *subs, err)}
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
			return nil, usageError{err}
		}
	}
	return &cfg, nil
}

// chainExchange checks --chain-id and --exchange and returns the exchange:
// --exchange when given, else the chain's 0x v3 Exchange.
func chainExchange(chainID int, exchange string) (common.Address, error) {
	if chainID < 1 {
		return common.Address{}, fmt.Errorf("--chain-id %d: want a positive chain ID", chainID)
	}
	if exchange == "" {
		addr, err := zeroex.ExchangeAddress(chainID)
		if err != nil {
			return common.Address{}, fmt.Errorf("--chain-id %d: no known 0x v3 Exchange on chain %d (known chains: %s); give its --exchange",
				chainID, chainID, strings.Trim(fmt.Sprint(zeroex.KnownChains()), "[]"))
		}
		return addr, nil
	}
	if !common.IsHexAddress(exchange) {
		return common.Address{}, fmt.Errorf("--exchange %q: not an address (want 0x and 40 hex digits)", exchange)
	}
	return common.HexToAddress(exchange), nil
}

// maxSchemaSize bounds a schema file: peers bound the request that carries
// the filter to 1 MiB.
const maxSchemaSize = 512 << 10

// readBounded reads a whole file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// buildFilter checks the filter flags and compiles the filter. An empty
// exchange is the chain's Exchange.
func buildFilter(chainID int, exchange, schema string) (*orderfilter.Filter, error) {
	addr, err := chainExchange(chainID, exchange)
	if err != nil {
		return nil, err
	}
	if path, ok := strings.CutPrefix(schema, "@"); ok {
		data, err := readBounded(path, maxSchemaSize)
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
