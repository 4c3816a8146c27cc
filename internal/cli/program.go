package cli

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

	"github.com/ordersync/ordersync/internal/gcfloor"
)

// Exit codes. A usage error (unknown command, bad flag) is 2, as with the
// flag package; any other failure is 1.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Command is one subcommand: Run gets the arguments after its name.
type Command struct {
	Name    string
	Summary string
	// Hidden commands run but are not listed (netsim's relay).
	Hidden bool
	Run    func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Program is a command-line program made of subcommands: the operator's
// ordersync and the lab's ordersync-lab.
type Program struct {
	// Name starts every failure line ("<Name> <command>: <reason>").
	Name string
	// Intro opens the usage text, before the list of commands.
	Intro string
	// Commands, in the order usage lists them.
	Commands []Command
	// Outro closes the usage text, after the list of commands.
	Outro string
}

// Main runs the program on os.Args and exits with its status. The first
// SIGINT or SIGTERM cancels the command's context so that it can close its
// host and exit cleanly; a second one kills a stuck process.
//
// The heap may grow by at least gcfloor.DefaultFloor between collections
// (unless GOGC or GOMEMLIMIT is set): with its orders in a database a node's
// live heap is a few MiB, and at GOGC=100 it collected some 200 times in a
// 100 000-order sync.
func (p *Program) Main() {
	gcfloor.Start(gcfloor.DefaultFloor)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := p.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run dispatches args to a command and turns its result into an exit code,
// printing a failure as one line "<program> <cmd>: <reason>" on stderr.
func (p *Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		p.PrintUsage(stderr)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if cmd := p.lookup(args[1]); cmd != nil {
				// A command prints its own flags on -h; asked for, they
				// are output, not a diagnostic.
				return p.Run(ctx, []string{cmd.Name, "-h"}, stdout, stdout)
			}
			fmt.Fprintf(stderr, "%s help: unknown command %q\n", p.Name, args[1])
			p.PrintUsage(stderr)
			return ExitUsage
		}
		p.PrintUsage(stdout)
		return ExitOK
	}
	cmd := p.lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "%s: unknown command %q\n", p.Name, name)
		p.PrintUsage(stderr)
		return ExitUsage
	}
	err := cmd.Run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		// -h: the flag set has printed the command's usage already.
		return ExitOK
	case IsUsageError(err):
		fmt.Fprintf(stderr, "%s %s: %s\n", p.Name, name, OneLine(err))
		fmt.Fprintf(stderr, "run '%s %s -h' for usage\n", p.Name, name)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s %s: %s\n", p.Name, name, OneLine(err))
		return ExitFailure
	}
}

func (p *Program) lookup(name string) *Command {
	for i := range p.Commands {
		if p.Commands[i].Name == name {
			return &p.Commands[i]
		}
	}
	return nil
}

// PrintUsage writes the program's usage: Intro, the visible commands, Outro.
func (p *Program) PrintUsage(w io.Writer) {
	fmt.Fprint(w, p.Intro)
	for _, c := range p.Commands {
		if !c.Hidden {
			fmt.Fprintf(w, "\t%-6s %s\n", c.Name, c.Summary)
		}
	}
	fmt.Fprint(w, p.Outro)
}

// OneLine flattens an error message onto one line: some errors (libp2p's
// dial errors, errors.Join) list their parts on lines of their own.
func OneLine(err error) string { return Flatten(err.Error()) }

// Flatten joins the non-blank lines of msg with "; ".
func Flatten(msg string) string {
	lines := strings.Split(msg, "\n")
	parts := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
