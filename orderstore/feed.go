package orderstore

import (
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// ChangeKind says what happened to an order in a Change.
type ChangeKind uint8

// The kinds of change. An order is added once, when the store did not hold
// it, and leaves once, for one of the three reasons.
const (
	// ChangeAdded: the store now holds an order it did not hold.
	ChangeAdded ChangeKind = iota + 1
	// ChangeExpired: the order left because it expired (within the
	// store's margin).
	ChangeExpired
	// ChangeRemoved: the order left because someone removed it (Remover).
	ChangeRemoved
	// ChangeEvicted: the order left to make room in a full store (see
	// Memory's WithCapacity).
	ChangeEvicted
)

// String is the kind's name, lower case, fit for a metric label.
func (k ChangeKind) String() string {
	switch k {
	case ChangeAdded:
		return "added"
	case ChangeExpired:
		return "expired"
	case ChangeRemoved:
		return "removed"
	case ChangeEvicted:
		return "evicted"
	}
	return "unknown"
}

// Change is one order added to or leaving a store.
type Change struct {
	Kind ChangeKind
	// Hash is the order's hash.
	Hash common.Hash
	// Order is the order added or the order that left. It must not be
	// changed.
	Order *zeroex.SignedOrder
}

// Subscriber is implemented by stores with a change feed: every order
// added and every order that leaves, whoever caused it (a sync, the node's
// own code, the store's expiry or eviction), in the order the store made
// the changes. Adding an order the store already holds is no change.
//
// The feed never blocks a write: each subscription has a buffer, and a
// change that finds it full is dropped and counted (Subscription.Missed).
// A subscriber that missed changes reads the store again to catch up.
type Subscriber interface {
	// Subscribe starts a subscription with room for buffer changes
	// (DefaultFeedBuffer when buffer < 1). Close it when done.
	Subscribe(buffer int) *Subscription
}

// DefaultFeedBuffer is a subscription's buffer when the subscriber does not
// choose one: a few pages of a sync.
const DefaultFeedBuffer = 4096

// Subscription is one subscriber's end of a change feed.
type Subscription struct {
	feed   *ChangeFeed
	ch     chan Change
	missed atomic.Uint64
	closed bool // guarded by feed.mu
}

// Changes is the channel the changes arrive on, oldest first. It is closed
// when the subscription or the store is closed.
func (s *Subscription) Changes() <-chan Change { return s.ch }

// Missed returns how many changes were dropped because the buffer was full.
func (s *Subscription) Missed() uint64 { return s.missed.Load() }

// Close ends the subscription and closes its channel. It is safe to call
// more than once.
func (s *Subscription) Close() { s.feed.unsubscribe(s) }

// ChangeFeed delivers a store's changes to its subscriptions. A store
// embeds one (Memory does), calls Publish for each change under its write
// lock, so that subscribers see changes in the order they were made, and
// Close when the store closes. It is safe for concurrent use; the zero
// value is ready.
type ChangeFeed struct {
	mu     sync.RWMutex
	subs   []*Subscription
	closed bool
	missed atomic.Uint64
}

// Subscribe adds a subscription with room for buffer changes
// (DefaultFeedBuffer when buffer < 1). On a closed feed the subscription's
// channel is closed at once.
func (f *ChangeFeed) Subscribe(buffer int) *Subscription {
	if buffer < 1 {
		buffer = DefaultFeedBuffer
	}
	s := &Subscription{feed: f, ch: make(chan Change, buffer)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		s.closed = true
		close(s.ch)
		return s
	}
	f.subs = append(f.subs, s)
	return s
}

func (f *ChangeFeed) unsubscribe(s *Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
	for i, x := range f.subs {
		if x == s {
			f.subs = append(f.subs[:i], f.subs[i+1:]...)
			break
		}
	}
}

// Active reports whether the feed has subscribers, so that a store can
// skip building changes nobody reads.
func (f *ChangeFeed) Active() bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.subs) > 0
}

// Publish hands c to every subscription without waiting: a subscription
// whose buffer is full misses it.
func (f *ChangeFeed) Publish(c Change) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, s := range f.subs {
		select {
		case s.ch <- c:
		default:
			s.missed.Add(1)
			f.missed.Add(1)
		}
	}
}

// Missed returns how many changes all subscriptions, past and present,
// missed together.
func (f *ChangeFeed) Missed() uint64 { return f.missed.Load() }

// Close closes every subscription; later ones are closed at once.
func (f *ChangeFeed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, s := range f.subs {
		s.closed = true
		close(s.ch)
	}
	f.subs = nil
}
