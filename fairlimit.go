package ordersync

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// fairLimiter hands out the tokens of the provider's shared request limiter
// (WithRateLimit) fairly among peers. While no one waits, a request takes a
// token as it comes, so a peer alone gets the whole rate. Once requests
// wait, the peers with waiting requests take turns, one token each, in the
// order they started waiting: while others wait no peer gets a second token
// before each of them has had one, however many streams it keeps waiting.
//
// It counts requests, not their cost: a request's work is already bounded
// (by the scan bounds and scan slots of the subprotocols, and by the page
// and response size), and a count is what a requester can plan with and
// what the network's nodes count.
type fairLimiter struct {
	lim *rate.Limiter
	// now and afterFunc are the clock; tests drive their own.
	now       func() time.Time
	afterFunc func(time.Duration, func())

	mu sync.Mutex
	// queues holds the waiting requests of each peer that has some, first
	// come first; turns lists those peers, the next to be served first.
	queues map[peer.ID][]*tokenWait
	turns  []peer.ID
	// timerSet is true while a wake-up for the next token is pending.
	timerSet bool
}

// tokenWait is one request waiting for a token.
type tokenWait struct {
	ready   chan struct{} // closed when granted
	granted bool          // under fairLimiter.mu
}

func newFairLimiter(limit rate.Limit, burst int) *fairLimiter {
	return &fairLimiter{
		lim:       rate.NewLimiter(limit, burst),
		now:       time.Now,
		afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		queues:    make(map[peer.ID][]*tokenWait),
	}
}

// admit decides on a new stream of p before its first request is read. It
// returns paid when it took a token for that request at once. Without a
// token, the stream is still let in (to wait its turn, paid false) unless
// p already has a request waiting: then p is asking beyond its share, and
// the stream is turned away as the network's nodes turn away a stream that
// finds their limiter empty.
func (f *fairLimiter) admit(p peer.ID) (paid, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.turns) == 0 && f.lim.AllowN(f.now(), 1) {
		return true, true
	}
	return false, len(f.queues[p]) == 0
}

// wait blocks until p's request gets a token or ctx ends.
func (f *fairLimiter) wait(ctx context.Context, p peer.ID) error {
	w := f.enqueue(p)
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if w.granted {
		return nil // granted as ctx ended: take it
	}
	f.remove(p, w)
	return ctx.Err()
}

// enqueue puts a request of p in line and hands out what tokens there are;
// the request may come back granted at once.
func (f *fairLimiter) enqueue(p peer.ID) *tokenWait {
	w := &tokenWait{ready: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queues[p]) == 0 {
		f.turns = append(f.turns, p)
	}
	f.queues[p] = append(f.queues[p], w)
	f.dispatch()
	return w
}

// remove takes an ungranted request of p out of line.
func (f *fairLimiter) remove(p peer.ID, w *tokenWait) {
	q := slices.DeleteFunc(f.queues[p], func(x *tokenWait) bool { return x == w })
	if len(q) > 0 {
		f.queues[p] = q
		return
	}
	delete(f.queues, p)
	f.turns = slices.DeleteFunc(f.turns, func(x peer.ID) bool { return x == p })
}

// dispatch grants the tokens the limiter has, a turn at a time, and sets
// a wake-up for the next token when requests are left waiting.
func (f *fairLimiter) dispatch() {
	for len(f.turns) > 0 {
		now := f.now()
		if !f.lim.AllowN(now, 1) {
			f.wakeForNextToken(now)
			return
		}
		p := f.turns[0]
		f.turns = f.turns[1:]
		q := f.queues[p]
		w := q[0]
		w.granted = true
		close(w.ready)
		if len(q) > 1 {
			f.queues[p] = q[1:]
			f.turns = append(f.turns, p) // to the back of the line
		} else {
			delete(f.queues, p)
		}
	}
}

// wakeForNextToken calls dispatch again once the limiter should have a
// token. A limiter that never refills (rate 0) leaves its waiters to
// their contexts.
func (f *fairLimiter) wakeForNextToken(now time.Time) {
	limit := f.lim.Limit()
	if f.timerSet || limit <= 0 {
		return
	}
	missing := 1 - f.lim.TokensAt(now)
	d := time.Duration(math.Ceil(missing / float64(limit) * float64(time.Second)))
	f.timerSet = true
	f.afterFunc(max(d, time.Microsecond), func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.timerSet = false
		f.dispatch()
	})
}
