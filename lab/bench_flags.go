package main

import (
	"fmt"
	"io"

	"github.com/ordersync/ordersync/internal/cli"
)

// benchConfig is what the bench's flags choose.
type benchConfig struct {
	// orders is how many generated orders every measurement uses.
	orders int
	// perPage is the provider's page size in the syncs.
	perPage int
	// seed selects the generated orders.
	seed int64
	// resyncHeld is the share of the orders the requester holds before the
	// re-sync.
	resyncHeld float64
	// runs is how many times each measurement (the limits, 1 and 2, and
	// the syncs, 3 and 4) is made; the table shows the median run and the
	// spread.
	runs int
	// resyncOrders is n of the re-sync table (0 leaves it out).
	resyncOrders int
	// cpuProfile, when set, is where a CPU profile of the whole run goes.
	cpuProfile string
}

// benchMaxOrders bounds --orders: the bench holds the orders several times
// over (provider, requester, fresh copies).
const benchMaxOrders = 1_000_000

// benchMaxRuns bounds --runs.
const benchMaxRuns = 101

func defaultBenchConfig() benchConfig {
	return benchConfig{
		orders:     50_000,
		perPage:    500,
		seed:       1,
		resyncHeld: 0.99,
		runs:       3,
		// The figures are at n = 100 000.
		resyncOrders: 100_000,
	}
}

// parseBenchFlags reads the bench's command line. Usage goes to usage.
func parseBenchFlags(args []string, usage io.Writer) (benchConfig, error) {
	cfg := defaultBenchConfig()
	fs := cli.NewTextFlagSet("bench", `Usage: ordersync-lab bench [flags]

Measures, with the same generated orders, on 127.0.0.1 in this process:
  1. transport: the provider's encoded pages pushed over one libp2p stream;
  2. verification: order hashes and signatures, on all cores;
  3. full syncs with each subprotocol into an empty store, with the
     provider's default rate limit, with it lifted, and lifted with the
     Prometheus metrics tracer on at both ends;
  4. a re-sync when the requester already holds 99% of the orders;
  5. a re-sync table at --resync-orders n: a requester missing d = 0, 1,
     10, 100, 1 000 and 10 000 of them, with reconcile and with v1.
Each limit and each sync is measured --runs times, and the median run
counts, shown with the range of all runs: the limits are measured the
way the syncs are, so that load from elsewhere weighs on both alike.
"sync/limit ratio: X" is the best sync's median orders/s (rate limit
lifted, no tracer) over the smaller of the transport and verification
limits; the line before it compares the syncs with the tracer on and off.
The re-sync table follows, and the last two lines are "re-sync/missing
bytes ratio: X (n=..., d=1000)" (reconcile's bytes both ways over the
missing orders' JSON) and "re-sync bytes when in sync: N (n=...)".

Flags:
`, usage, "cpuprofile")
	fs.IntVar(&cfg.orders, "orders", cfg.orders, "generated signed orders to measure with")
	fs.IntVar(&cfg.perPage, "per-page", cfg.perPage, cli.PerPageUsage("orders per page in the syncs"))
	fs.Int64Var(&cfg.seed, "seed", cfg.seed, "seed of the generated orders")
	fs.IntVar(&cfg.runs, "runs", cfg.runs, fmt.Sprintf("times each limit and sync is measured (median and spread shown), 1 to %d", benchMaxRuns))
	fs.IntVar(&cfg.resyncOrders, "resync-orders", cfg.resyncOrders, fmt.Sprintf("n of the re-sync table, 1000 to %d (0: no table)", benchMaxOrders))
	// Hidden: for profiling the bench itself, not for users.
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "")
	if err := cli.ParseFlags(fs, args); err != nil {
		return cfg, err
	}
	if cfg.orders < 100 || cfg.orders > benchMaxOrders {
		return cfg, cli.Usagef("--orders %d: want 100..%d", cfg.orders, benchMaxOrders)
	}
	if err := cli.CheckPerPage(cfg.perPage); err != nil {
		return cfg, err
	}
	if cfg.resyncOrders != 0 && (cfg.resyncOrders < 1000 || cfg.resyncOrders > benchMaxOrders) {
		return cfg, cli.Usagef("--resync-orders %d: want 0 or 1000..%d", cfg.resyncOrders, benchMaxOrders)
	}
	if cfg.runs < 1 || cfg.runs > benchMaxRuns {
		return cfg, cli.Usagef("--runs %d: want 1 to %d", cfg.runs, benchMaxRuns)
	}
	return cfg, nil
}
