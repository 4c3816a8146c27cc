package news

import (
	"fmt"
	"time"
)

// The defaults.
const (
	// DefaultBatchDelay is how long new orders wait to be pushed
	// together: a fraction of a round trip. Each push that leaves alone
	// costs its link a packet's headers and an ACK (about 0.16 of a
	// 950-byte order); 30 ms rather than 10 shares a few more of them,
	// for about 20 ms more a hop (docs/protocol.md, News).
	DefaultBatchDelay = 30 * time.Millisecond
	// DefaultLazyDelay is how long new hashes wait to be announced
	// together to the neighbours not pushed to (see WithLazyDelay).
	DefaultLazyDelay = time.Second
	// DefaultLazyHold is how long more announcements that are due wait
	// to leave with a push or get to the same neighbour (see
	// WithLazyHold).
	DefaultLazyHold = 600 * time.Millisecond
	// graftWait is how long an announced order this node lacks is given
	// to come by a push before it is fetched from the announcer, until
	// pushes were measured (lagMeter): a push down the tree may be a few
	// hops behind the announcer's copy.
	graftWait = 500 * time.Millisecond
	// cutWait is how long after fetching announced orders no push
	// brought a node waits for their pushes before it grafts the link to
	// the announcer (graftIfCut).
	cutWait = 2 * time.Second
	// DefaultFetchTimeout bounds a get, from writing it to its answer.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultRate is the hashes a second a node announces to a peer, and
	// the hashes a second it takes from a peer's announcements and gets
	// (twice as many, so that an honest peer's bursts are never cut).
	// News is for orders as they arrive; a node that takes in thousands at
	// once (a first sync) announces the rest of them no faster, and
	// leaves them to its neighbours' syncs.
	DefaultRate = 200
	// DefaultBurst is the hashes a node may announce at once to a peer.
	DefaultBurst = MaxAnnounce
	// DefaultBulkRate is the store's new orders a second above which a
	// News neither announces nor fetches: the node is catching up by its
	// syncs (see WithBulkRate).
	DefaultBulkRate = 500
	// DefaultMaxFetches bounds the gets to one peer under way at once;
	// hashes announced meanwhile wait, at most 2 048, and go in the next.
	DefaultMaxFetches = 4
	// maxStreamsPerPeer bounds the news streams one peer may have open to
	// this node at once (one is all an honest peer uses).
	maxStreamsPerPeer = 2
	// maxQueuedHashes bounds the claimed hashes waiting to be asked of one
	// peer.
	maxQueuedHashes = 2 * MaxAnnounce
	// maxQueued bounds the messages waiting to be written on a link.
	maxQueued = 64
	// knownCapacity bounds the hashes remembered as known to peers.
	knownCapacity = 1 << 16
)

// config is a News's options, checked.
type config struct {
	batchDelay   time.Duration
	lazyDelay    time.Duration
	lazyHold     time.Duration
	fetchTimeout time.Duration
	rate         float64
	burst        int
	maxFetches   int
	bulkRate     int
}

func defaultConfig() config {
	return config{
		batchDelay:   DefaultBatchDelay,
		lazyDelay:    DefaultLazyDelay,
		lazyHold:     DefaultLazyHold,
		fetchTimeout: DefaultFetchTimeout,
		rate:         DefaultRate,
		burst:        DefaultBurst,
		maxFetches:   DefaultMaxFetches,
		bulkRate:     DefaultBulkRate,
	}
}

// Option configures a News.
type Option func(*config) error

// WithBatchDelay sets how long new orders wait to be pushed together to
// the eager neighbours (0 pushes each change at once).
func WithBatchDelay(d time.Duration) Option {
	return delayOption("batch delay", d, func(c *config) { c.batchDelay = d })
}

// WithLazyDelay sets how long the hashes of new orders wait to be
// announced together to the neighbours they were not pushed to (0
// announces each change at once). Announcements are the repair path, for
// a push lost or a tree cut: a longer wait puts more hashes in a packet,
// and leaves out more neighbours that meanwhile showed they hold the
// orders; an order a push misses reaches the node that much later.
func WithLazyDelay(d time.Duration) Option {
	return delayOption("lazy delay", d, func(c *config) { c.lazyDelay = d })
}

// WithLazyHold sets how long more announcements that are due (after the
// lazy delay) wait for a push or a get to the same neighbour, to leave in
// its write (0 sends them at once, alone). In the same write as other
// messages an announcement costs the link no packet of its own, no
// headers and no acknowledgement; and the neighbours that meanwhile
// pushed or announced the orders are left out of it, so that fewer
// hashes cross and fewer orders are fetched that a push was bringing.
func WithLazyHold(d time.Duration) Option {
	return delayOption("lazy hold", d, func(c *config) { c.lazyHold = d })
}

// delayOption is an option that sets a batching delay of 0 to 1s, named
// what in its error.
func delayOption(what string, d time.Duration, set func(*config)) Option {
	return func(c *config) error {
		if d < 0 || d > time.Second {
			return fmt.Errorf("news: %s %v: want 0 to 1s", what, d)
		}
		set(c)
		return nil
	}
}

// WithFetchTimeout bounds how long a get may wait for its answer; then its
// hashes are released and the announcer's score lowered.
func WithFetchTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("news: fetch timeout %v: want > 0", d)
		}
		c.fetchTimeout = d
		return nil
	}
}

// WithRate sets the hashes a second this node announces to each peer, at
// most burst at once; it takes twice as many from each peer.
func WithRate(perSecond float64, burst int) Option {
	return func(c *config) error {
		if perSecond <= 0 || burst < 1 {
			return fmt.Errorf("news: rate %v/s, burst %d: want both > 0", perSecond, burst)
		}
		c.rate, c.burst = perSecond, burst
		return nil
	}
}

// WithMaxFetches bounds the gets to one peer under way at once; hashes
// announced meanwhile wait for the next get (at most 2 048 of them; the
// rest are left to the next announcement or sync).
func WithMaxFetches(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("news: max fetches %d: want ≥ 1", n)
		}
		c.maxFetches = n
		return nil
	}
}

// WithBulkRate sets the store's new orders a second above which the News
// neither announces nor fetches, leaving the orders to the syncs, which
// fetch each once: a node catching up (a first sync) would otherwise fetch
// by news what its syncs fetch too.
func WithBulkRate(perSecond int) Option {
	return func(c *config) error {
		if perSecond < 1 {
			return fmt.Errorf("news: bulk rate %d: want ≥ 1", perSecond)
		}
		c.bulkRate = perSecond
		return nil
	}
}
