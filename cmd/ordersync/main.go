// Command ordersync runs the 0x Mesh order-sharing protocol
// (/0x-mesh/order-sync/version/0) from a shell: serve a file of signed 0x v3
// orders to libp2p peers, fetch peers' orders into a file, run a long-lived
// node, and show the protocol with a built-in demo. The measuring tools
// (bench, netsim) are the lab's, in the module at lab/ beside this one, so
// that this program links no plotting and no network emulator.
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
//	node   [--listen MULTIADDR] [--peer MULTIADDR ...] [--orders FILE] [--db DSN] [--min-peers N]
//	       [--interval D] [--identity FILE] [--subprotocols LIST] [--mdns] [--metrics ADDR]
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
	"io"

	"github.com/ordersync/ordersync/internal/cli"
)

// program is the ordersync command: its subcommands in the order usage
// shows them.
var program = cli.Program{
	Name: "ordersync",
	Intro: `ordersync shares signed 0x v3 orders with libp2p peers over the
0x Mesh ordersync protocol (/0x-mesh/order-sync/version/0).

Usage:

	ordersync <command> [flags]

Commands:

`,
	Commands: []cli.Command{
		{Name: "serve", Summary: "serve signed orders from a file to ordersync peers", Run: runServe},
		{Name: "sync", Summary: "fetch orders from ordersync peers into a file", Run: runSync},
		{Name: "node", Summary: "run a long-running node that serves and syncs orders with its peers", Run: runNode},
		{Name: "demo", Summary: "run several nodes in this process and show a sync", Run: runDemo},
		{Name: "gen", Summary: "write generated signed orders to a file (for tests and measurements)", Run: runGen},
	},
	Outro: `	help   show this text, or "help <command>" for a command's flags

Examples:

	ordersync gen --count 1000 --out orders.jsonl
	ordersync serve --orders orders.jsonl --listen /ip4/127.0.0.1/tcp/4001
	ordersync sync --peer /ip4/127.0.0.1/tcp/4001/p2p/<peer ID> --out got.jsonl

Order files hold one signed order per line (JSON lines) or one JSON array.
Exit status: 0 on success, 1 on failure, 2 on a usage error.
The measuring tools are the lab's: go -C lab run . help (from the repository).
`,
}

func main() { program.Main() }

// run is program.Run: the tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// Exit codes, as the tests name them.
const (
	exitOK      = cli.ExitOK
	exitFailure = cli.ExitFailure
	exitUsage   = cli.ExitUsage
)
