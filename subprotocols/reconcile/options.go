package reconcile

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// Defaults of the Options.
const (
	// DefaultMaxDifferences bounds the hashes a provider may claim the
	// requester lacks in one sync (and the differences decoded): past it,
	// the requester pages instead.
	DefaultMaxDifferences = 65_536
	// DefaultMaxRounds bounds the sketch rounds of one sync; past it, the
	// requester pages instead.
	DefaultMaxRounds = 32
	// DefaultRejectedHashes and DefaultRejectedFor bound the requester's
	// memory of orders it rejected, which it reconciles as if it held
	// them so that they are not fetched again every round (with every
	// provider, or only the one that sent the copy: see the package
	// documentation, "Rejected orders").
	DefaultRejectedHashes = 10_000
	DefaultRejectedFor    = time.Hour
	// DefaultAnswerRate and DefaultAnswerBurst cap, as a provider, the
	// bytes of sketch answers (coded symbols and envelope) sent to one
	// requester: 1 MiB a second, in
	// bursts of up to 1 MiB (a full answer of MaxSymbolsPerResponse
	// symbols is 896 kB). An honest re-sync of 10 000 missing orders
	// draws about 770 kB of symbols in all.
	DefaultAnswerRate  = 1 << 20
	DefaultAnswerBurst = 1 << 20
)

// DefaultMaxScan and DefaultMaxScanTime are reconcile's scan budget:
// every scan it makes as a provider (a snapshot of a store without an
// index, a page of a first sync) looks at no more orders than
// DefaultMaxScan, for no longer than DefaultMaxScanTime. A snapshot reads
// the whole matching set, so the order bound is ten times pagination's.
const (
	DefaultMaxScan     = 10 * pagination.DefaultMaxScan
	DefaultMaxScanTime = pagination.DefaultMaxScanTime
)

// Option configures the subprotocol. As the root package's and
// pagination's Options do, an Option refuses a value out of its range with
// an error naming it: New panics on it (a programming error), and
// CheckOptions reports it for settings that come from users. Options are
// made only by the With functions here.
type Option func(*config) error

type config struct {
	pagerOpts      []pagination.Option
	scorer         pagination.PeerScorer
	maxDifferences int
	maxRounds      int
	maxScan        int
	maxScanTime    time.Duration
	rejectedMax    int
	rejectedTTL    time.Duration
	answerRate     int
	answerBurst    int
	now            func() time.Time
}

// CheckOptions reports the first invalid option, naming it, so that a
// caller taking settings from users can refuse them before New, which
// panics on them.
func CheckOptions(opts ...Option) error {
	_, err := newConfig(opts)
	return err
}

func newConfig(opts []Option) (config, error) {
	c := config{maxDifferences: DefaultMaxDifferences, maxRounds: DefaultMaxRounds,
		maxScan: DefaultMaxScan, maxScanTime: DefaultMaxScanTime,
		rejectedMax: DefaultRejectedHashes, rejectedTTL: DefaultRejectedFor,
		answerRate: DefaultAnswerRate, answerBurst: DefaultAnswerBurst, now: time.Now}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return c, err
		}
	}
	if paging.SetsScanBudget(c.pagerOpts...) {
		return c, errors.New("reconcile: WithPagination: pagination.WithMaxScan given; reconcile has one scan budget, set it with reconcile.WithMaxScan")
	}
	if err := paging.CheckOptions(c.pagerOpts...); err != nil {
		return c, fmt.Errorf("reconcile: WithPagination: %w", err)
	}
	// The one budget bounds the pages reconcile serves too.
	c.pagerOpts = append(c.pagerOpts[:len(c.pagerOpts):len(c.pagerOpts)], paging.WithMaxScan(c.maxScan, c.maxScanTime))
	if c.scorer == nil {
		c.scorer = noScorer{}
	}
	return c, nil
}

// WithPagination passes options to the pagination pipeline that fetched
// and paged orders go through (page size, stats, the WithOnAccepted
// callback). The scan budget is not among them: reconcile's is
// WithMaxScan, and a pagination.WithMaxScan here is refused.
func WithPagination(opts ...pagination.Option) Option {
	return func(c *config) error {
		c.pagerOpts = append(c.pagerOpts, opts...)
		return nil
	}
}

// WithPeerScorer makes both this subprotocol and its pagination pipeline
// move providers' scores. A node passes its ordersync.Node; nil is
// refused.
func WithPeerScorer(s pagination.PeerScorer) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("reconcile: peer scorer: nil")
		}
		c.scorer = s
		c.pagerOpts = append(c.pagerOpts, pagination.WithPeerScorer(s))
		return nil
	}
}

// WithMaxDifferences bounds the hashes a provider may claim the requester
// lacks in one sync: at least 1. Default DefaultMaxDifferences.
func WithMaxDifferences(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("reconcile: max differences %d: must be positive", n)
		}
		c.maxDifferences = n
		return nil
	}
}

// WithMaxRounds bounds the sketch rounds of one sync: at least 1. Default
// DefaultMaxRounds.
func WithMaxRounds(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("reconcile: max rounds %d: must be positive", n)
		}
		c.maxRounds = n
		return nil
	}
}

// WithMaxScan is reconcile's one scan budget as a provider: a snapshot of
// a store without an index, and a page it serves, read at most orders
// stored orders (default DefaultMaxScan) for at most d (default
// DefaultMaxScanTime), both positive; past either, a snapshot gives way to
// paging and a page ends where its scan stopped. (Reading the hashes of a
// snapshot taken from the store's index runs no filter: only the order
// count bounds it.) A scan with a costly
// filter first takes one of the process's scan slots, shared with every
// pagination subprotocol, and waits at most d for it.
func WithMaxScan(orders int, d time.Duration) Option {
	return func(c *config) error {
		if orders < 1 {
			return fmt.Errorf("reconcile: max scan %d orders: must be positive", orders)
		}
		if d <= 0 {
			return fmt.Errorf("reconcile: max scan time %v: must be positive", d)
		}
		c.maxScan, c.maxScanTime = orders, d
		return nil
	}
}

// WithRejectedHashes bounds the requester's memory of rejected orders:
// at most n hashes (DefaultRejectedHashes; 0 turns the memory off), each
// for d (DefaultRejectedFor; positive).
func WithRejectedHashes(n int, d time.Duration) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("reconcile: rejected hashes %d: must be 0 (off) or more", n)
		}
		if d <= 0 {
			return fmt.Errorf("reconcile: rejected hashes kept for %v: must be positive", d)
		}
		c.rejectedMax, c.rejectedTTL = n, d
		return nil
	}
}

// WithAnswerRate caps, as a provider, the bytes of sketch answers (first
// answers and their extensions, symbols and envelope) sent to one
// requester: bytesPerSecond (DefaultAnswerRate) in bursts of up to burst
// bytes (DefaultAnswerBurst). An answer is cut to what the budget holds,
// but to no fewer than 16 symbols, for which the provider waits; so burst
// must hold at least that answer (MinAnswerBurst). A burst below a full
// answer (MaxSymbolsPerResponse symbols, 896 kB) cuts every answer to it.
// bytesPerSecond of -1 lifts the cap (burst is then ignored). Fetched and
// paged orders are not counted: the Service's rate limits bound them, as
// they bound version 1's pages.
func WithAnswerRate(bytesPerSecond, burst int) Option {
	return func(c *config) error {
		switch {
		case bytesPerSecond == -1:
			c.answerRate = -1
			return nil
		case bytesPerSecond < 1:
			return fmt.Errorf("reconcile: answer rate %d bytes/s: must be positive, or -1 for no cap", bytesPerSecond)
		case burst < MinAnswerBurst:
			return fmt.Errorf("reconcile: answer burst %d bytes: must be at least %d (an answer of 16 symbols)", burst, MinAnswerBurst)
		}
		c.answerRate, c.answerBurst = bytesPerSecond, burst
		return nil
	}
}

// MinAnswerBurst is the smallest burst WithAnswerRate takes: one answer
// of the 16 symbols a provider always sends.
const MinAnswerBurst = answerEnvelopeBytes + minAnswerSymbols*symbolWireBytes

type noScorer struct{}

func (noScorer) SetPeerScore(peer.ID, string, int) {}
func (noScorer) AddPeerScore(peer.ID, string, int) {}
