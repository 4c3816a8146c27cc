package sqlstore

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/ordersync/ordersync/orderstore"
)

// WithExpiry makes the store drop expired orders itself, by the rule of
// orderstore.Expiry with this margin and the store's clock (WithClock): it
// refuses them in AddOrders, its reads never return them (the queries
// leave them out), and a pruner deletes them in small transactions
// through the expiration index, reporting each on the change feed as
// orderstore.ChangeExpired (on PostgreSQL, also to the other processes
// that share the database). A negative margin is refused.
func WithExpiry(margin time.Duration) Option {
	return func(c *config) error {
		if margin < 0 {
			return fmt.Errorf("sqlstore: WithExpiry(%s): negative", margin)
		}
		c.expiry, c.margin = true, margin
		return nil
	}
}

// WithClock sets the clock expiry is judged by (time.Now by default), so
// that tests can move time. It matters only with WithExpiry; nil is
// refused.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return fmt.Errorf("sqlstore: WithClock(nil): no clock")
		}
		c.now = now
		return nil
	}
}

// WithCapacity bounds the store to n orders, as orderstore.Capped says:
// when full it evicts the unpinned orders that expire last and then
// accepts only orders that expire before them; pinned orders
// (AddPinnedOrders) are never evicted. 0 means no bound, the default; a
// negative n is refused.
func WithCapacity(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("sqlstore: WithCapacity(%d): negative", n)
		}
		c.capacity = n
		return nil
	}
}

// limits is what a Store given WithExpiry or WithCapacity keeps beside the
// table. The writer goroutine alone changes the table, so the counts it
// keeps here are exact for this process; on PostgreSQL other processes'
// adds and removals reach count through the change log (follow.go).
type limits struct {
	expiry   bool
	margin   time.Duration
	now      func() time.Time
	capacity int

	// count is how many orders the table holds.
	count atomic.Int64
	// maxExpiration is the latest expiration the store accepts unpinned,
	// math.MaxInt64 while it accepts any; lowered is the writer's lowering
	// within the transaction under way, kept once it commits.
	maxExpiration atomic.Int64
	lowered       int64
	// next is the earliest expiration the table may hold: the pruner's
	// alarm.
	next atomic.Int64

	// The pruner (prune.go): wake tells it to look now, stop ends it,
	// done says it ended.
	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}
	// holdPrune, when set (by tests), is called before each batch.
	holdPrune atomic.Pointer[func()]
}

// rule is the store's expiry rule.
func (l *limits) rule() orderstore.Expiry {
	return orderstore.Expiry{Now: l.now, Margin: l.margin}
}

// cutoff is the latest expiration of an order expired now, or
// math.MinInt64 without expiry.
func (l *limits) cutoff() int64 {
	if l == nil || !l.expiry {
		return math.MinInt64
	}
	return l.rule().Cutoff()
}

// startLimits sets up expiry and capacity, when cfg asks for either: it
// counts the orders, finds the earliest expiration, and starts the pruner.
func (s *Store) startLimits(ctx context.Context, cfg config) error {
	if !cfg.expiry && cfg.capacity == 0 {
		return nil
	}
	l := &limits{expiry: cfg.expiry, margin: cfg.margin, now: cfg.now, capacity: cfg.capacity}
	if l.now == nil {
		l.now = time.Now
	}
	l.maxExpiration.Store(math.MaxInt64)
	l.lowered = math.MaxInt64
	var n int64
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil {
		return s.readError(ctx, fmt.Errorf("count the orders: %w", err))
	}
	l.count.Store(n)
	next, err := s.earliestExpiration(ctx)
	if err != nil {
		return err
	}
	l.next.Store(next)
	s.lim = l
	if l.expiry {
		s.startPruner()
	}
	return nil
}

// earliestExpiration is the earliest expiration the table holds,
// math.MaxInt64 when it holds none: one step into each pinned range of
// orders_by_expiration.
func (s *Store) earliestExpiration(ctx context.Context) (int64, error) {
	var first [2]*int64
	for pinned := range 2 {
		err := s.read.QueryRowContext(ctx,
			"SELECT min(expiration_time_seconds) FROM orders WHERE pinned = "+s.d.placeholder(1), pinned).Scan(&first[pinned])
		if err != nil {
			return 0, s.readError(ctx, fmt.Errorf("find the earliest expiration: %w", err))
		}
	}
	next := int64(math.MaxInt64)
	for _, f := range first {
		if f != nil {
			next = min(next, *f)
		}
	}
	return next, nil
}

// liveOnly is the condition, and its argument, that leaves out of a read
// the orders expired now: "" and nil without expiry. p is the
// placeholder's number.
func (s *Store) liveOnly(p int) (string, []any) {
	if s.lim == nil || !s.lim.expiry {
		return "", nil
	}
	cutoff := s.lim.cutoff()
	if s.lim.next.Load() <= cutoff {
		s.nudgePruner()
	}
	return " AND expiration_time_seconds > " + s.d.placeholder(p), []any{cutoff}
}

// leftCounts counts the orders that left a Store, by cause.
type leftCounts struct {
	expired, evicted, removed atomic.Uint64
}

// settle brings the counts up to date with a transaction that committed
// these changes. The writer calls it.
func (s *Store) settle(added, removed []change) {
	for _, c := range removed {
		switch c.kind {
		case orderstore.ChangeExpired:
			s.left.expired.Add(1)
		case orderstore.ChangeEvicted:
			s.left.evicted.Add(1)
		default:
			s.left.removed.Add(1)
		}
	}
	l := s.lim
	if l == nil {
		return
	}
	n := l.count.Add(int64(len(added) - len(removed)))
	if l.lowered != math.MaxInt64 {
		l.maxExpiration.Store(min(l.maxExpiration.Load(), l.lowered))
		l.lowered = math.MaxInt64
	}
	s.roomAgain(n)
}

// roomAgain lets a store that holds n orders, fewer than its capacity,
// accept any expiration again (orderstore.Capped).
func (s *Store) roomAgain(n int64) {
	if c := s.lim.capacity; c > 0 && n < int64(c) {
		s.lim.maxExpiration.Store(math.MaxInt64)
	}
}

// countLogged brings the count up to date with another process's change,
// read from the change log.
func (s *Store) countLogged(removed bool) {
	if s.lim == nil {
		return
	}
	if removed {
		s.roomAgain(s.lim.count.Add(-1))
	} else {
		s.lim.count.Add(1)
	}
}

// Expiry returns the store's expiry rule, and false without WithExpiry
// (see orderstore.Expirer).
func (s *Store) Expiry() (orderstore.Expiry, bool) {
	if s.lim == nil || !s.lim.expiry {
		return orderstore.Expiry{Now: time.Now}, false
	}
	return s.lim.rule(), true
}

// Capacity is the most orders the store holds, 0 without WithCapacity.
func (s *Store) Capacity() int {
	if s.lim == nil {
		return 0
	}
	return s.lim.capacity
}

// MaxExpiration returns the latest expiration an unpinned order may have
// to be stored, and false while the store accepts any (see
// orderstore.Capped). It is this process's bound: it starts at "any" when
// the store opens, and on PostgreSQL each process sharing the database
// lowers its own as it evicts.
func (s *Store) MaxExpiration() (time.Time, bool) {
	if s.lim == nil {
		return time.Time{}, false
	}
	x := s.lim.maxExpiration.Load()
	if x == math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(x, 0), true
}

// Stats returns the store's counts, for a node's metrics: the same as
// orderstore.Memory's, so that code that reads a Memory's reads this
// store's too. Orders and Pinned are counted in the table (Orders is the
// count the store keeps, with WithExpiry or WithCapacity); a database
// error leaves them -1. Expired, Evicted and Removed count what this Store
// removed since Open.
func (s *Store) Stats() orderstore.MemoryStats {
	st := orderstore.MemoryStats{Orders: -1, Pinned: -1, Capacity: s.Capacity(), FeedMissed: s.feed.Missed()}
	if x, ok := s.MaxExpiration(); ok {
		st.MaxExpiration = x
	}
	st.Expired, st.Evicted, st.Removed = s.left.expired.Load(), s.left.evicted.Load(), s.left.removed.Load()
	ctx := s.life
	s.read.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE pinned = 1").Scan(&st.Pinned)
	if s.lim != nil {
		st.Orders = int(s.lim.count.Load())
	} else if n, err := s.Len(ctx); err == nil {
		st.Orders = n
	}
	return st
}

var (
	_ orderstore.Expirer  = (*Store)(nil)
	_ orderstore.Capped   = (*Store)(nil)
	_ orderstore.Pinner   = (*Store)(nil)
	_ orderstore.Admitter = (*Store)(nil)
)

// leftKind is the feed's kind of a removed change: why it left,
// ChangeRemoved unless the store said otherwise.
func leftKind(k orderstore.ChangeKind) orderstore.ChangeKind {
	if k == 0 {
		return orderstore.ChangeRemoved
	}
	return k
}
