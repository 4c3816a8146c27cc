package main

import (
	"fmt"
	"io"

	"github.com/ordersync/ordersync/internal/cli"
)

// demoConfig is what the demo's flags choose.
type demoConfig struct {
	// nodes is how many nodes run; the first two provide, the rest request.
	nodes int
	// orders is how many orders each provider holds.
	orders int
	// overlap is the share of a provider's orders the other also holds.
	overlap float64
	// perPage is how many orders a provider answers per page.
	perPage int
	// subprotocols are the wire names, most preferred first.
	subprotocols []string
	// seed makes the order sets reproducible.
	seed int64
	// noRateLimit lifts the providers' request rate limit.
	noRateLimit bool
}

// Bounds of the demo's flags: enough to show the protocol, not enough to
// swamp a laptop by a typo.
const (
	demoMinNodes  = 3
	demoMaxNodes  = 50
	demoMaxOrders = 1_000_000
)

// defaultDemoConfig is the demo with no flags.
func defaultDemoConfig() demoConfig {
	return demoConfig{
		nodes:        5,
		orders:       20_000,
		overlap:      0.25,
		perPage:      500,
		subprotocols: cli.DefaultSubprotocolPreference(),
		seed:         1,
	}
}

// parseDemoFlags reads the demo's command line. Usage goes to usage (on -h
// or a bad flag).
func parseDemoFlags(args []string, usage io.Writer) (demoConfig, error) {
	cfg := defaultDemoConfig()
	fs := cli.NewTextFlagSet("demo", `Usage: ordersync demo [flags]

Starts several libp2p nodes in this process on 127.0.0.1. The first two
hold generated signed orders (partly the same ones); every other node
connects to both, runs GetOrders with minPeers 2 and then one round of
PeriodicallyGetOrders, and must end up holding exactly the union of the
two providers' orders. Exits non-zero if one does not.

Flags:
`, usage)
	fs.IntVar(&cfg.nodes, "nodes", cfg.nodes, fmt.Sprintf("number of nodes, two providers and the rest requesters (%d..%d)", demoMinNodes, demoMaxNodes))
	fs.IntVar(&cfg.orders, "orders", cfg.orders, "signed orders each provider holds")
	fs.IntVar(&cfg.perPage, "per-page", cfg.perPage, cli.PerPageUsage("orders a provider answers per page"))
	subs := fs.String("subprotocols", cli.DefaultSubprotocols, cli.SubprotocolsUsage("subprotocols every node speaks"))
	fs.Int64Var(&cfg.seed, "seed", cfg.seed, "seed of the generated orders and keys (same seed, same orders)")
	fs.BoolVar(&cfg.noRateLimit, "no-rate-limit", false, "lift the providers' request rate limits (default 30/s burst 10, shared fairly by all peers)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return cfg, err
	}
	if cfg.nodes < demoMinNodes || cfg.nodes > demoMaxNodes {
		return cfg, cli.Usagef("--nodes %d: want %d..%d (two providers and at least one requester)", cfg.nodes, demoMinNodes, demoMaxNodes)
	}
	if cfg.orders < 1 || cfg.orders > demoMaxOrders {
		return cfg, cli.Usagef("--orders %d: want 1..%d", cfg.orders, demoMaxOrders)
	}
	if err := cli.CheckPerPage(cfg.perPage); err != nil {
		return cfg, err
	}
	names, err := cli.ParseSubprotocols(*subs)
	if err != nil {
		return cfg, cli.Usage(fmt.Errorf("--subprotocols %q: %w", *subs, err))
	}
	cfg.subprotocols = names
	return cfg, nil
}
