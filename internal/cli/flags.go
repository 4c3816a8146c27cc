package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/sirupsen/logrus"
)

// UsageError is a bad command line: the command exits 2 and points at -h.
type UsageError struct{ err error }

// Error is the bad command line's message.
func (e UsageError) Error() string { return e.err.Error() }

// Unwrap is the error the usage error marks.
func (e UsageError) Unwrap() error { return e.err }

// Usage marks err as a usage error.
func Usage(err error) error { return UsageError{err} }

// Usagef returns a usage error with a formatted message.
func Usagef(format string, args ...interface{}) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// IsUsageError reports whether err, or an error it wraps, is a usage
// error.
func IsUsageError(err error) bool {
	var u UsageError
	return errors.As(err, &u)
}

// NewFlagSet returns a flag set for a command that reports errors to the
// caller instead of exiting, prints its usage (synopsis, then flags) to
// stderr on -h or a bad flag, and has the --log-level flag every command
// shares.
func NewFlagSet(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("ordersync "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: ordersync %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	level := fs.String("log-level", "warn", "log `level` on stderr: panic, fatal, error, warn, info, debug or trace")
	return fs, level
}

// NewTextFlagSet returns a flag set, like newFlagSet's but without
// --log-level, whose usage (on -h or a bad flag, to usage) is text and then
// the flags other than the hidden ones.
func NewTextFlagSet(name, text string, usage io.Writer, hidden ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("ordersync "+name, flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, text)
		printVisibleFlags(fs, hidden...)
	}
	return fs
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

// PerPageUsage and CheckPerPage are --per-page's text and check, the same
// in serve, demo and bench.
func PerPageUsage(what string) string {
	return fmt.Sprintf("%s, 1 to %d", what, MaxPerPage)
}

// CheckPerPage refuses a --per-page value out of range.
func CheckPerPage(n int) error {
	if n < 1 || n > MaxPerPage {
		return Usagef("--per-page %d: want 1 to %d", n, MaxPerPage)
	}
	return nil
}

// ParseFlags parses args into fs and rejects positional arguments, which no
// command takes. Errors from the flag package (already printed with the
// usage) come back as usage errors; -h comes back as flag.ErrHelp.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (every input is a flag)", fs.Arg(0))
	}
	return nil
}

// NewLogger returns a logrus logger that writes to stderr at the named
// level.
func NewLogger(level string, stderr io.Writer) (*logrus.Logger, error) {
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, Usagef("--log-level %q: not a level (try warn, info or debug)", level)
	}
	log := logrus.New()
	log.SetOutput(stderr)
	log.SetLevel(lvl)
	return log, nil
}

// PeerAddrs is a repeatable flag of peer multiaddrs that end in /p2p/ID.
// Each value is checked when it is set, so a bad one fails flag parsing with
// the flag's name in the message.
type PeerAddrs []peer.AddrInfo

// String lists the addresses, for the flag package.
func (p *PeerAddrs) String() string {
	if p == nil {
		return ""
	}
	parts := make([]string, 0, len(*p))
	for _, ai := range *p {
		parts = append(parts, ai.String())
	}
	return strings.Join(parts, ",")
}

// Set parses and adds one --peer address.
func (p *PeerAddrs) Set(s string) error {
	ai, err := ParsePeerAddr(s)
	if err != nil {
		return err
	}
	// Two addresses of one peer are one peer with two addresses: min-peers
	// counts peers.
	for i := range *p {
		if (*p)[i].ID == ai.ID {
			(*p)[i].Addrs = append((*p)[i].Addrs, ai.Addrs...)
			return nil
		}
	}
	*p = append(*p, ai)
	return nil
}

// ParsePeerAddr parses a full peer address such as
// /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW....
func ParsePeerAddr(s string) (peer.AddrInfo, error) {
	addr, err := ma.NewMultiaddr(strings.TrimSpace(s))
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("bad multiaddr %q: %v", s, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("multiaddr %q: %v (want a full address ending in /p2p/<peer ID>)", s, err)
	}
	if len(ai.Addrs) == 0 {
		return peer.AddrInfo{}, fmt.Errorf("multiaddr %q: no transport address before /p2p/ (want e.g. /ip4/127.0.0.1/tcp/4001/p2p/<peer ID>)", s)
	}
	return *ai, nil
}
