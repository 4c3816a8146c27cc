// Command ordersync runs the 0x Mesh order-sharing protocol
// (/0x-mesh/order-sync/version/0) from a shell: serve a file of signed 0x v3
// orders to libp2p peers, fetch peers' orders into a file, and show or
// measure the protocol with a built-in demo and bench.
//
// Usage:
//
//	ordersync <command> [flags]
//
// The commands:
//
//	serve  --orders FILE [--listen MULTIADDR] [--per-page N] [--identity FILE]
//	       [--rate-limit R] [--peer-rate-limit R] [--metrics ADDR] [--pprof ADDR]
//	sync   --peer MULTIADDR [--peer ...] --out FILE [--min-peers N]
//	       [--subprotocols filtered-pagination,ordinal]
//	       [--chain-id N] [--exchange ADDR] [--filter-schema JSON|@FILE] [--timeout D]
//	demo   several nodes in one process on loopback, checked
//	bench  sync throughput against its transport and verification limits
//	node   [--listen MULTIADDR] [--peer MULTIADDR ...] [--orders FILE] [--db DSN] [--min-peers N]
//	       [--interval D] [--identity FILE] [--subprotocols LIST] [--mdns] [--metrics ADDR]
//	netsim [--nodes N] [--orders N] [--rtt D] [--bandwidth R] [--churn N] [--plot FILE] (root)
//	netsim bench [--orders N] [--rtt D] [--bandwidth R] (root)
//	gen    --count N --out FILE [--seed S] [--first K] [--makers M]
//	       [--chain-id N] [--exchange ADDR]
//	help   [command]
//
// serve reads the order file, drops the orders whose signature does not
// verify (saying how many and why on stderr), and serves the rest with both
// pagination subprotocols, the order-hash cursor preferred. Before serving
// it prints every address it listens on, one full /ip4/.../tcp/N/p2p/ID
// address per line, on stdout, which is all it prints there. It runs until
// SIGINT or SIGTERM and then exits 0. --metrics ADDR serves Prometheus
// metrics at http://ADDR/metrics and --pprof ADDR Go's profiler at
// http://ADDR/debug/pprof/, each announced on stderr with the address bound
// (docs/metrics.md lists the series); node takes both too.
//
// sync dials every --peer, runs GetOrders until --min-peers of them (all, by
// default) have each delivered orders, writes every accepted order to
// --out as JSON lines and prints a summary on stdout; its first line reads
//
//	sync: accepted N orders (M new) from P of Q peers in T (R orders/s), B bytes received
//
// It fails with a one-line reason when a peer cannot be reached (unless
// --min-peers others can), when --timeout passes first, or when every peer
// has answered a whole sync without a valid order; the orders accepted until
// then are written anyway. The output file is written through a temporary
// file beside it and renamed, so it is never half-written.
//
// Without a filter flag it keeps every order whose signature verifies; any
// of --chain-id (default 1337), --exchange (default the 0x v3 Exchange of
// that chain) and --filter-schema (default {}) makes it send and apply an
// order filter. The Exchanges known are those the 0x Mesh network used:
// chains 1 (mainnet), 3, 4, 42 and 1337 (0x's Ganache snapshot); on any
// other chain --exchange is required.
//
// --subprotocols (sync and demo) takes the same names everywhere, most
// preferred first: filtered-pagination (also v1, filteredpagination or the
// wire name /pagination-with-filter/version/1) and ordinal (also v0 or
// /pagination-with-filter/version/0), in any case.
//
// gen writes deterministic signed orders, the same for the same seed, for
// trying serve and sync, signed for the Exchange of --chain-id (default
// 1337) unless --exchange names another.
//
// Order files hold one signed order per line (JSON lines, as sync and gen
// write them) or one JSON array of signed orders, in the JSON form 0x Mesh
// nodes exchange. An order of more than 1 MiB is an error. A bad order is
// reported with its file, line and field:
//
//	orders.jsonl:17: zeroex: field "makerFee": not a decimal number: "12a"
//
// Every command takes --log-level (default warn); logs go to stderr. A
// failure prints one line "ordersync <command>: <reason>" on stderr. Exit
// status: 0 on success, 1 on failure, 2 on a usage error (unknown command,
// bad flag or flag value).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ordersync/ordersync/internal/cli"
)

// Exit codes. A usage error (unknown command, bad flag) is 2, as with the
// flag package; any other failure is 1.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand: run gets the arguments after the command name.
type command struct {
	name    string
	summary string
	hidden  bool
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order usage shows them. demo and
// bench live in demo*.go and bench*.go.
var commands = []command{
	{name: "serve", summary: "serve signed orders from a file to ordersync peers", run: runServe},
	{name: "sync", summary: "fetch orders from ordersync peers into a file", run: runSync},
	{name: "node", summary: "run a long-running node that serves and syncs orders with its peers", run: runNode},
	{name: "netsim", summary: "run many nodes in network namespaces over slow links until they converge (root)", run: runNetsim},
	{name: "demo", summary: "run several nodes in this process and show a sync", run: runDemo},
	{name: "bench", summary: "measure sync throughput against its limits", run: runBench},
	{name: "gen", summary: "write generated signed orders to a file (for tests and measurements)", run: runGen},
}

func main() {
	// The first signal cancels the context so that a command can close its
	// host and exit cleanly; stop() restores the default so that a second
	// one kills a stuck process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a command and turns its result into an exit code,
// printing a failure as one line "ordersync <cmd>: <reason>" on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if cmd := lookupCommand(args[1]); cmd != nil {
				// A command prints its own flags on -h; asked for, they
				// are output, not a diagnostic.
				return run(ctx, []string{cmd.name, "-h"}, stdout, stdout)
			}
			fmt.Fprintf(stderr, "ordersync help: unknown command %q\n", args[1])
			printUsage(stderr)
			return exitUsage
		}
		printUsage(stdout)
		return exitOK
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "ordersync: unknown command %q\n", name)
		printUsage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		// -h: the flag set has printed the command's usage already.
		return exitOK
	case cli.IsUsageError(err):
		fmt.Fprintf(stderr, "ordersync %s: %s\n", name, oneLine(err))
		fmt.Fprintf(stderr, "run 'ordersync %s -h' for usage\n", name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "ordersync %s: %s\n", name, oneLine(err))
		return exitFailure
	}
}

// oneLine flattens an error message onto one line: some errors (libp2p's
// dial errors, errors.Join) list their parts on lines of their own.
func oneLine(err error) string { return flatten(err.Error()) }

// flatten joins the non-blank lines of msg with "; ".
func flatten(msg string) string {
	lines := strings.Split(msg, "\n")
	parts := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `ordersync shares signed 0x v3 orders with libp2p peers over the
0x Mesh ordersync protocol (/0x-mesh/order-sync/version/0).

Usage:

	ordersync <command> [flags]

Commands:

`)
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "\t%-6s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprint(w, `	help   show this text, or "help <command>" for a command's flags

Examples:

	ordersync gen --count 1000 --out orders.jsonl
	ordersync serve --orders orders.jsonl --listen /ip4/127.0.0.1/tcp/4001
	ordersync sync --peer /ip4/127.0.0.1/tcp/4001/p2p/<peer ID> --out got.jsonl

Order files hold one signed order per line (JSON lines) or one JSON array.
Exit status: 0 on success, 1 on failure, 2 on a usage error.
`)
}
