package reconcile

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

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

// Option configures the subprotocol.
type Option func(*config)

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

func newConfig(opts []Option) config {
	c := config{maxDifferences: DefaultMaxDifferences, maxRounds: DefaultMaxRounds,
		maxScan: 10 * pagination.DefaultMaxScan, maxScanTime: pagination.DefaultMaxScanTime,
		rejectedMax: DefaultRejectedHashes, rejectedTTL: DefaultRejectedFor,
		answerRate: DefaultAnswerRate, answerBurst: DefaultAnswerBurst, now: time.Now}
	for _, opt := range opts {
		opt(&c)
	}
	if c.scorer == nil {
		c.scorer = noScorer{}
	}
	return c
}

// WithPagination passes options to the pagination pipeline that fetched
// and paged orders go through (page size, scan budget, stats, the
// WithOnAccepted callback).
func WithPagination(opts ...pagination.Option) Option {
	return func(c *config) { c.pagerOpts = append(c.pagerOpts, opts...) }
}

// WithPeerScorer makes both this subprotocol and its pagination pipeline
// move providers' scores. A node passes its ordersync.Node.
func WithPeerScorer(s pagination.PeerScorer) Option {
	return func(c *config) {
		c.scorer = s
		c.pagerOpts = append(c.pagerOpts, pagination.WithPeerScorer(s))
	}
}

// WithMaxDifferences sets DefaultMaxDifferences; values below 1 mean the
// default.
func WithMaxDifferences(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxDifferences = n
		}
	}
}

// WithMaxRounds sets DefaultMaxRounds; values below 1 mean the default.
func WithMaxRounds(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRounds = n
		}
	}
}

// WithMaxScan bounds, as a provider, how many stored orders a snapshot of
// a store without an index may read (default ten times
// pagination.DefaultMaxScan) and for how long (default
// pagination.DefaultMaxScanTime); past either, the provider pages. Values
// of 0 or less mean the defaults.
func WithMaxScan(orders int, d time.Duration) Option {
	return func(c *config) {
		if orders > 0 {
			c.maxScan = orders
		}
		if d > 0 {
			c.maxScanTime = d
		}
	}
}

// WithRejectedHashes bounds the requester's memory of rejected orders:
// at most n hashes (DefaultRejectedHashes), each for d
// (DefaultRejectedFor). n < 0 turns it off; 0 values mean the defaults.
func WithRejectedHashes(n int, d time.Duration) Option {
	return func(c *config) {
		switch {
		case n < 0:
			c.rejectedMax = 0
		case n > 0:
			c.rejectedMax = n
		}
		if d > 0 {
			c.rejectedTTL = d
		}
	}
}

// WithAnswerRate caps, as a provider, the bytes of sketch answers (first
// answers and their extensions, symbols and envelope) sent to one
// requester: bytesPerSecond
// (DefaultAnswerRate) in bursts of up to burst bytes (DefaultAnswerBurst).
// An answer is cut to what the budget holds, but to no fewer than 16
// symbols, for which the provider waits. A burst below a full answer
// (MaxSymbolsPerResponse symbols, 896 kB) cuts every answer to it.
// bytesPerSecond < 0 lifts the cap; 0 values mean the defaults. Fetched and
// paged orders are not counted: the Service's rate limits bound them, as
// they bound version 1's pages.
func WithAnswerRate(bytesPerSecond, burst int) Option {
	return func(c *config) {
		switch {
		case bytesPerSecond < 0:
			c.answerRate = -1
		case bytesPerSecond > 0:
			c.answerRate = bytesPerSecond
		}
		if burst > 0 {
			c.answerBurst = max(burst, answerEnvelopeBytes+minAnswerSymbols*symbolWireBytes)
		}
	}
}

type noScorer struct{}

func (noScorer) SetPeerScore(peer.ID, string, int) {}
func (noScorer) AddPeerScore(peer.ID, string, int) {}
