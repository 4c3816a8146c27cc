// Command ordersync-lab measures and stresses ordersync: the developers'
// tools, kept out of the operator's program (cmd/ordersync) so that it links
// no plotting and no network emulator, and in a module of its own so that a
// library user's build list does not carry their dependencies.
//
// From the repository root:
//
//	go -C lab run . bench                  # sync throughput next to this machine's limits
//	sudo go -C lab run . netsim --plot run.svg   # 16 nodes in network namespaces over slow links
//	sudo go -C lab run . netsim bench      # 100 000 orders over one such link, next to its limit
//
// The commands:
//
//	bench  [--orders N] [--per-page N] [--runs N] [--resync-orders N] [--seed S]
//	netsim [--nodes N] [--orders N] [--rtt D] [--bandwidth R] [--churn N] [--plot FILE] [--ordersync PROGRAM] (root)
//	netsim bench [--orders N] [--rtt D] [--bandwidth R] [--ordersync PROGRAM] (root)
//
// netsim's nodes are the operator's program, "ordersync node": netsim runs
// the one --ordersync names, else an ordersync beside this program, else it
// builds one from this module (whose go.mod replaces the library with the
// checkout around it). Failures, usage and exit status are as ordersync's.
package main

import "github.com/ordersync/ordersync/internal/cli"

// program is the lab's command line.
var program = cli.Program{
	Name: "ordersync-lab",
	Intro: `ordersync-lab measures ordersync: throughput next to this machine's limits,
and networks of nodes in network namespaces over slow links.

Usage:

	go -C lab run . <command> [flags]     (from the repository root)

Commands:

`,
	Commands: []cli.Command{
		{Name: "bench", Summary: "measure sync throughput against its limits", Run: runBench},
		{Name: "netsim", Summary: "run many nodes in network namespaces over slow links until they converge (root)", Run: runNetsim},
	},
	Outro: `	help   show this text, or "help <command>" for a command's flags

Exit status: 0 on success, 1 on failure, 2 on a usage error.
`,
}

func main() { program.Main() }
