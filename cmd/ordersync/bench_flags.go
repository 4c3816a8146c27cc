package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	// cpuProfile, when set, is where a CPU profile of the whole run goes.
	cpuProfile string
}

// benchMaxOrders bounds --orders: the bench holds the orders several times
// over (provider, requester, fresh copies).
const benchMaxOrders = 1_000_000

func defaultBenchConfig() benchConfig {
	return benchConfig{
		orders:     50_000,
		perPage:    500,
		seed:       1,
		resyncHeld: 0.99,
	}
}

// parseBenchFlags reads the bench's command line. Usage goes to usage.
func parseBenchFlags(args []string, usage io.Writer) (benchConfig, error) {
	cfg := defaultBenchConfig()
	fs := flag.NewFlagSet("ordersync bench", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, `Usage: ordersync bench [flags]

Measures, with the same generated orders, on 127.0.0.1 in this process:
  1. transport: the provider's encoded pages pushed over one libp2p stream;
  2. verification: order hashes and signatures, on all cores;
  3. full syncs with each subprotocol into an empty store, with the
     provider's default rate limit and with it lifted;
  4. a re-sync when the requester already holds 99% of the orders.
The last line is "sync/limit ratio: X": the best sync's orders/s (rate limit
lifted) over the smaller of the transport and verification limits.

Flags:
`)
		printVisibleFlags(fs, "cpuprofile")
	}
	fs.IntVar(&cfg.orders, "orders", cfg.orders, "generated signed orders to measure with")
	fs.IntVar(&cfg.perPage, "per-page", cfg.perPage, "orders per page in the syncs (1..5000)")
	fs.Int64Var(&cfg.seed, "seed", cfg.seed, "seed of the generated orders")
	// Hidden: for profiling the bench itself, not for users.
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return cfg, usagef("unexpected argument %q", fs.Arg(0))
	}
	if cfg.orders < 100 || cfg.orders > benchMaxOrders {
		return cfg, usagef("--orders %d: want 100..%d", cfg.orders, benchMaxOrders)
	}
	if cfg.perPage < 1 || cfg.perPage > maxPerPage {
		return cfg, usagef("--per-page %d: want 1..%d", cfg.perPage, maxPerPage)
	}
	return cfg, nil
}

// printVisibleFlags prints fs's defaults, except the hidden flags.
func printVisibleFlags(fs *flag.FlagSet, hidden ...string) {
	full := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	full.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		for _, h := range hidden {
			if f.Name == h {
				return
			}
		}
		full.Var(f.Value, f.Name, f.Usage)
	})
	full.PrintDefaults()
}
