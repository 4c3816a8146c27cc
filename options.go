package ordersync

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/orderstore"
)

// Defaults of the options. The timeouts, the rate limit and the backoff are
// those of the existing 0x Mesh nodes; the size and count bounds are this
// implementation's own. The module's docs/protocol.md ("Bounds and
// defaults") lists every bound with its origin.
const (
	// DefaultMessageTimeout is how long either side waits for one message.
	DefaultMessageTimeout = 30 * time.Second
	// DefaultFirstRequestTimeout is how long a provider waits for the
	// first request of a new stream. A requester writes it as soon as the
	// stream opens, so a stream that stays silent is only holding one of
	// the provider's slots.
	DefaultFirstRequestTimeout = 5 * time.Second
	// DefaultRateLimit is how many requests per second a provider serves,
	// shared by all peers: all of it to a peer alone, and in turns, one
	// request each, to the peers whose requests wait (see WithRateLimit).
	DefaultRateLimit = rate.Limit(30)
	// DefaultRateBurst is the burst of the provider's shared limiter.
	DefaultRateBurst = 10
	// DefaultPeerRateLimit is how many requests per second a provider
	// serves one peer at most: no limit, as the shared limiter already
	// shares its rate fairly and a limit below it would only slow a peer
	// that asks alone.
	DefaultPeerRateLimit = rate.Inf
	// DefaultPeerRateBurst is the burst of the per-peer limiter.
	DefaultPeerRateBurst = 10
	// DefaultInitialBackoff is the requester's first wait between rounds.
	DefaultInitialBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps the requester's wait between rounds.
	DefaultMaxBackoff = time.Minute
	// DefaultJitter is the fraction by which PeriodicallyGetOrders varies
	// its delay, up or down.
	DefaultJitter = 0.1
	// DefaultMaxRequestSize bounds one request a provider reads.
	DefaultMaxRequestSize = 1 << 20
	// DefaultMaxResponseSize bounds one response a requester reads: room
	// for a 500-order page of orders with large asset data.
	DefaultMaxResponseSize = 16 << 20
	// DefaultMaxStreams bounds the inbound ordersync streams a provider
	// serves at once.
	DefaultMaxStreams = 64
	// DefaultMaxStreamsPerPeer bounds the inbound ordersync streams a
	// provider serves one peer at once: an honest requester uses one, and
	// the cap keeps one peer from holding every slot of DefaultMaxStreams
	// with idle streams.
	DefaultMaxStreamsPerPeer = 4
	// DefaultMaxRequestsPerStream bounds the pages a provider serves on
	// one stream; a requester that wants more opens a new stream (see
	// WithMaxRequestsPerStream).
	DefaultMaxRequestsPerStream = 2000
	// DefaultMaxPagesPerSync bounds the pages a requester takes from one
	// provider in one sync (a million orders at 500 a page).
	DefaultMaxPagesPerSync = 2000
	// DefaultMaxOrdersPerSync bounds the orders a requester takes from one
	// provider in one sync.
	DefaultMaxOrdersPerSync = 1_000_000
	// DefaultMaxOrdersPerResponse bounds the orders in one response a
	// requester decodes: a page of 500 on the network, and room for
	// pages far larger, while a 16 MiB response of "null,null,..." cannot
	// make millions of entries.
	DefaultMaxOrdersPerResponse = 20_000
	// DefaultLanes is how many requests a requester keeps in flight with
	// one provider, for a subprotocol that can spread its sync into lanes
	// (see WithLanes): over a 100 ms link at 50 Mbit/s, where a page of
	// 500 orders takes 80 ms, 8 lanes came to 0.72 of the link's rate on
	// a loaded machine and 4 lanes to 0.55 (docs/protocol.md).
	DefaultLanes = 8
	// MaxLanes is the most lanes WithLanes takes.
	MaxLanes = 64
	// maxResumePoints bounds how many broken-off syncs a Service remembers.
	maxResumePoints = 1024
	// maxPeerStats bounds how many providers Stats reports on.
	maxPeerStats = 1024
)

// Option configures a Service; pass them to New.
//
// Every package of this module that takes options (this one and
// subprotocols/pagination, whose options filteredpagination and ordinal
// take) takes them in this one style: an Option is a function that sets
// one setting or refuses a value out of its range with an error naming
// it; the constructor panics on that error, a programming error, and
// CheckOptions reports it first for settings that come from users. No
// option silently clamps or replaces a value.
type Option func(*config) error

type config struct {
	messageTimeout       time.Duration
	firstRequestTimeout  time.Duration
	rateLimit            rate.Limit
	rateBurst            int
	peerRateLimit        rate.Limit
	peerRateBurst        int
	backoffFactory       func() backoff.BackOff
	jitter               float64
	random               func() float64
	after                func(time.Duration) <-chan time.Time
	logger               logrus.FieldLogger
	maxRequestSize       int
	maxResponseSize      int
	maxStreams           int
	maxStreamsPerPeer    int
	maxRequestsPerStream int
	maxPagesPerSync      int
	maxOrdersPerSync     int
	maxOrdersPerResponse int
	lanes                int
	tracer               MetricsTracer
	// uncachedEncodings: a provider encodes orders without keeping the
	// encoding on them (WithEncodingCache(false)).
	uncachedEncodings bool
	// unpipelined: the requester ignores Pipeliner (WithPipelining(false)).
	unpipelined bool
	// The node's checks of received orders (validate.go).
	validator        Validator
	validatorTimeout time.Duration
	validatorDelta   int
	expiry           orderstore.Expiry
	clockSkew        time.Duration
}

// CheckOptions reports the first invalid option, naming it, so that a
// caller taking settings from users can refuse them before New, which
// panics on them.
func CheckOptions(opts ...Option) error {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return err
		}
	}
	return nil
}

func defaultConfig() config {
	return config{
		messageTimeout:       DefaultMessageTimeout,
		firstRequestTimeout:  DefaultFirstRequestTimeout,
		rateLimit:            DefaultRateLimit,
		rateBurst:            DefaultRateBurst,
		peerRateLimit:        DefaultPeerRateLimit,
		peerRateBurst:        DefaultPeerRateBurst,
		backoffFactory:       exponentialBackoff(DefaultInitialBackoff, DefaultMaxBackoff),
		jitter:               DefaultJitter,
		random:               rand.Float64,
		after:                time.After,
		logger:               logrus.StandardLogger(),
		maxRequestSize:       DefaultMaxRequestSize,
		maxResponseSize:      DefaultMaxResponseSize,
		maxStreams:           DefaultMaxStreams,
		maxStreamsPerPeer:    DefaultMaxStreamsPerPeer,
		maxRequestsPerStream: DefaultMaxRequestsPerStream,
		maxPagesPerSync:      DefaultMaxPagesPerSync,
		maxOrdersPerSync:     DefaultMaxOrdersPerSync,
		maxOrdersPerResponse: DefaultMaxOrdersPerResponse,
		lanes:                DefaultLanes,
		validatorDelta:       DefaultValidatorRejectDelta,
		clockSkew:            DefaultClockSkew,
	}
}

// exponentialBackoff starts at initial and doubles up to max, with no
// randomisation and no end.
func exponentialBackoff(initial, max time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff {
		b := backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(initial),
			backoff.WithMultiplier(2),
			backoff.WithMaxInterval(max),
			backoff.WithRandomizationFactor(0),
			backoff.WithMaxElapsedTime(0),
		)
		return b
	}
}

// WithMessageTimeout sets how long either side waits for one message to
// arrive or be written, and how long a provider's subprotocol may take to
// answer one request. Default DefaultMessageTimeout (30 s).
func WithMessageTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("ordersync: message timeout %v: must be positive", d)
		}
		c.messageTimeout = d
		return nil
	}
}

// WithFirstRequestTimeout sets how long a provider waits for the first
// request of a new stream, when that is shorter than the message timeout.
// Default DefaultFirstRequestTimeout (5 s).
func WithFirstRequestTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("ordersync: first request timeout %v: must be positive", d)
		}
		c.firstRequestTimeout = d
		return nil
	}
}

// WithRateLimit sets the provider's request limiter shared by all peers.
// It counts requests, as the network's nodes do, not what they cost: a
// request's work is bounded on its own (the subprotocols' scan bounds, the
// page and response size), so a count bounds the work too, and a requester
// can plan with it.
//
// The rate is shared fairly. While no request waits, a request takes a
// token as it comes: a peer alone gets the whole rate. Once requests wait,
// the peers with waiting requests take turns, one token each: no peer is
// starved, and none gets more than its share while others wait, however
// many streams it opens. A new stream that finds no token is reset at once
// if its peer already has a request waiting, and otherwise waits its turn.
// A request waits at most a message timeout. rate.Inf turns the limiter
// off. Default 30/s, burst 10 (the network's nodes' figures, which they
// share first come, first served).
func WithRateLimit(limit rate.Limit, burst int) Option {
	return func(c *config) error {
		if limit < 0 || (limit != rate.Inf && burst < 1) {
			return fmt.Errorf("ordersync: rate limit %v burst %d: need a non-negative rate and a burst of at least 1", limit, burst)
		}
		c.rateLimit, c.rateBurst = limit, burst
		return nil
	}
}

// WithPeerRateLimit sets a request limiter for each peer, on top of the
// shared one (WithRateLimit), for a provider that wants a hard cap per peer
// whatever the others do. A new stream that finds it empty is reset at
// once; a later request waits for a token. rate.Inf turns it off. Default
// no limit (the shared limiter's turns already keep one peer from using it
// up); burst 10 when a limit is set.
func WithPeerRateLimit(limit rate.Limit, burst int) Option {
	return func(c *config) error {
		if limit < 0 || (limit != rate.Inf && burst < 1) {
			return fmt.Errorf("ordersync: peer rate limit %v burst %d: need a non-negative rate and a burst of at least 1", limit, burst)
		}
		c.peerRateLimit, c.peerRateBurst = limit, burst
		return nil
	}
}

// WithBackoff sets the requester's wait between rounds of GetOrders: initial
// first, doubling each round, at most max. Default 250 ms to 1 min.
func WithBackoff(initial, max time.Duration) Option {
	return func(c *config) error {
		if initial <= 0 || max < initial {
			return fmt.Errorf("ordersync: backoff %v to %v: need 0 < initial <= max", initial, max)
		}
		c.backoffFactory = exponentialBackoff(initial, max)
		return nil
	}
}

// WithBackoffFactory replaces the requester's backoff: each GetOrders call
// takes a fresh BackOff from factory and waits NextBackOff between rounds.
// If it returns backoff.Stop, GetOrders gives up with ErrTooFewPeers. Tests
// use it to script the schedule.
func WithBackoffFactory(factory func() backoff.BackOff) Option {
	return func(c *config) error {
		if factory == nil {
			return fmt.Errorf("ordersync: backoff factory: must not be nil")
		}
		c.backoffFactory = factory
		return nil
	}
}

// WithJitter sets the fraction by which PeriodicallyGetOrders varies its
// delay: approxDelay × (1 ± fraction), uniformly. Default 0.1.
func WithJitter(fraction float64) Option {
	return func(c *config) error {
		if fraction < 0 || fraction >= 1 {
			return fmt.Errorf("ordersync: jitter %v: must be in [0, 1)", fraction)
		}
		c.jitter = fraction
		return nil
	}
}

// WithLogger sets where the Service logs. Default logrus's standard logger.
func WithLogger(logger logrus.FieldLogger) Option {
	return func(c *config) error {
		if logger == nil {
			return fmt.Errorf("ordersync: logger: must not be nil")
		}
		c.logger = logger
		return nil
	}
}

// WithMaxRequestSize bounds the size of one request a provider reads.
// Default DefaultMaxRequestSize (1 MiB).
func WithMaxRequestSize(n int) Option {
	return positive("max request size", n, func(c *config) { c.maxRequestSize = n })
}

// WithMaxResponseSize bounds the size of one response a requester reads.
// Default DefaultMaxResponseSize (16 MiB).
func WithMaxResponseSize(n int) Option {
	return positive("max response size", n, func(c *config) { c.maxResponseSize = n })
}

// WithMaxStreams bounds the inbound ordersync streams a provider serves at
// once; it resets streams beyond that. Default DefaultMaxStreams (64).
func WithMaxStreams(n int) Option {
	return positive("max streams", n, func(c *config) { c.maxStreams = n })
}

// WithMaxStreamsPerPeer bounds the inbound ordersync streams a provider
// serves one peer at once; it resets that peer's streams beyond that.
// Default DefaultMaxStreamsPerPeer (4).
func WithMaxStreamsPerPeer(n int) Option {
	return positive("max streams per peer", n, func(c *config) { c.maxStreamsPerPeer = n })
}

// WithMaxRequestsPerStream bounds the pages a provider serves on one
// stream: it answers n requests, and then one more only if that answer is
// the complete one; otherwise it closes the stream without answering, and
// the requester goes on with a new stream from that request. So the stream
// that ends a sync carries orders whenever the one before it was cut off,
// which an original 0x Mesh requester needs: it counts a sync whose last
// stream brought no orders as "no orders from the peer" and starts over.
// Default DefaultMaxRequestsPerStream (2000).
func WithMaxRequestsPerStream(n int) Option {
	return positive("max requests per stream", n, func(c *config) { c.maxRequestsPerStream = n })
}

// WithMaxPagesPerSync bounds the pages a requester takes from one provider
// in one sync; a provider that sends another page with orders after that
// many is cut off (ErrTooManyPages), while the complete response that
// follows them is taken. Default DefaultMaxPagesPerSync (2000).
func WithMaxPagesPerSync(n int) Option {
	return positive("max pages per sync", n, func(c *config) { c.maxPagesPerSync = n })
}

// WithMaxOrdersPerSync bounds the orders a requester takes from one
// provider in one sync; a provider whose next page would take the sync past
// n orders is cut off (ErrTooManyOrders) before that page is handled, while
// the complete response after exactly n is taken. Default
// DefaultMaxOrdersPerSync (1,000,000).
func WithMaxOrdersPerSync(n int) Option {
	return positive("max orders per sync", n, func(c *config) { c.maxOrdersPerSync = n })
}

// WithMaxOrdersPerResponse bounds the orders in one response a requester
// decodes; a response with more is an invalid message. Default
// DefaultMaxOrdersPerResponse (20,000).
func WithMaxOrdersPerResponse(n int) Option {
	return positive("max orders per response", n, func(c *config) { c.maxOrdersPerResponse = n })
}

// WithLanes sets how many requests a requester keeps in flight with one
// provider: with a subprotocol that can spread its sync into lanes
// (Spreader: both pagination subprotocols and reconcile's paging can), it
// pages through n parts of the provider's orders side by side on the same
// stream, one request in flight for each. Over a link with a long round
// trip that keeps the provider busy, where one request at a time leaves it
// idle for a round trip after every page. A small book stays in one lane.
// The provider sees nothing new: it still reads and answers one request at
// a time. n = 1 keeps one lane: with a Pipeliner, the next request goes
// out as soon as a page has been read. Memory does not grow with n: the
// requester still reads one response ahead, and the others wait in the
// stream's flow-control window. That window then sets the pace over a
// long round trip: with yamux's 256 KiB starting window a sync over a
// 100 ms, 50 Mbit/s link ran at 80 % of the link, with 1 MiB (yamux's
// InitialStreamWindowSize on the host's muxer; the README shows how) at
// 95 %. Default DefaultLanes (8); at most MaxLanes.
func WithLanes(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxLanes {
			return fmt.Errorf("ordersync: lanes %d: must be 1 to %d", n, MaxLanes)
		}
		c.lanes = n
		return nil
	}
}

// WithEncodingCache sets whether a provider keeps each order's JSON
// encoding on the order once it has served it (zeroex's cache). Default
// true: an order is encoded once, and every later response copies the
// bytes. With false a provider encodes the orders of every response anew,
// about a microsecond of CPU per order, and holds about a kilobyte less per
// order served: for a node that mostly syncs and seldom serves, or serves
// more orders than it can afford to hold twice. An order already cached
// (by zeroex's MarshalJSON or AppendJSON elsewhere) is copied either way.
func WithEncodingCache(keep bool) Option {
	return func(c *config) error {
		c.uncachedEncodings = !keep
		return nil
	}
}

// WithPipelining sets whether the requester asks a Pipeliner subprotocol
// for its next request before the page in hand is validated, and so keeps
// the provider busy (and, with a Spreader, spreads a sync over lanes).
// Default true. With false every subprotocol is driven as the original
// nodes drive theirs: the next request goes out once
// HandleOrderSyncResponse has returned it, one round trip per page. It is
// there to measure what pipelining is worth, and for a node that wants the
// original's pace.
func WithPipelining(on bool) Option {
	return func(c *config) error {
		c.unpipelined = !on
		return nil
	}
}

func positive(name string, n int, set func(*config)) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("ordersync: %s %d: must be positive", name, n)
		}
		set(c)
		return nil
	}
}
