package sqlstore

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/ordersync/ordersync/orderstore"
)

// pruneBatch is how many expired orders one transaction of the pruner
// deletes. Each deletion touches the table and its three indexes; a batch
// of this size took 10 ms on SQLite at 1 000 000 orders (500: 60 ms, 2 000:
// 300 ms; docs/schema.md, "Version 4"), and an AddOrders queued behind it
// waits no longer than that, however many orders expire at once: the
// writer takes the calls waiting between two batches into the next
// transaction. A variable only so that the measurement can try others.
var pruneBatch = 100

// The pruner's waits: never shorter than minPrunerWait, so that a clock a
// test holds still just before an expiry cannot make it spin, and never
// longer than maxPrunerWait, after which it looks at the table's earliest
// expiration again (on PostgreSQL, another process may have added one).
const (
	minPrunerWait = 10 * time.Millisecond
	maxPrunerWait = time.Minute
)

// startPruner starts the goroutine that deletes orders as they expire, so
// that they leave the table (and the feed says so) even while nobody
// reads.
func (s *Store) startPruner() {
	l := s.lim
	ctx, stop := context.WithCancel(context.Background())
	l.wake, l.stop, l.done = make(chan struct{}, 1), stop, make(chan struct{})
	go s.prune(ctx)
}

// stopPruner ends the pruner, if one runs, and waits for it.
func (s *Store) stopPruner() {
	if s.lim == nil || s.lim.stop == nil {
		return
	}
	s.lim.stop()
	<-s.lim.done
}

// nudgePruner tells the pruner to look now, without waiting.
func (s *Store) nudgePruner() {
	select {
	case s.lim.wake <- struct{}{}:
	default:
	}
}

func (s *Store) prune(ctx context.Context) {
	l := s.lim
	defer close(l.done)
	timer := time.NewTimer(s.untilNextExpiry())
	defer timer.Stop()
	for {
		timedOut := false
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-timer.C:
			timedOut = true
		}
		// An error (the database is away) is tried again on the next
		// wake; reads leave expired orders out meanwhile.
		if _, err := s.expire(ctx, false); err == nil && timedOut && l.next.Load() > l.cutoff() {
			s.refreshNext(ctx)
		}
		timer.Reset(s.untilNextExpiry())
	}
}

// untilNextExpiry is how long the pruner waits for the next expiry.
func (s *Store) untilNextExpiry() time.Duration {
	next := s.lim.next.Load()
	if next == math.MaxInt64 {
		return maxPrunerWait
	}
	d := time.Unix(next, 0).Add(-s.lim.margin).Sub(s.lim.now())
	return min(max(d, minPrunerWait), maxPrunerWait)
}

// expire deletes the orders expired now, pruneBatch a transaction, and
// returns how many it deleted. Unless all is set it starts only when the
// earliest expiration held is due.
func (s *Store) expire(ctx context.Context, all bool) (int, error) {
	if s.lim == nil || !s.lim.expiry {
		return 0, nil
	}
	total := 0
	for all || s.lim.next.Load() <= s.lim.cutoff() {
		if hold := s.lim.holdPrune.Load(); hold != nil {
			(*hold)()
		}
		n, err := s.submit(&writeRequest{ctx: ctx, life: &lifeRequest{prune: pruneBatch}})
		total += n
		if err != nil {
			return total, err
		}
		if n < pruneBatch {
			return total, s.refreshNext(ctx)
		}
	}
	return total, nil
}

// refreshNext reads the earliest expiration the table holds into next,
// unless an add lowered next meanwhile.
func (s *Store) refreshNext(ctx context.Context) error {
	before := s.lim.next.Load()
	next, err := s.earliestExpiration(ctx)
	if err != nil {
		return err
	}
	if !s.lim.next.CompareAndSwap(before, next) {
		s.lowerNext(next)
	}
	return nil
}

// lowerNext lowers next to exp if exp is earlier, and wakes the pruner
// for it.
func (s *Store) lowerNext(exp int64) {
	for {
		cur := s.lim.next.Load()
		if exp >= cur {
			return
		}
		if s.lim.next.CompareAndSwap(cur, exp) {
			if s.lim.wake != nil {
				s.nudgePruner()
			}
			return
		}
	}
}

// expireBatch is a prune request's part of the writer's transaction: it
// deletes up to limit orders expired now, through orders_by_expiration,
// and appends them to removed.
func (s *Store) expireBatch(ctx context.Context, tx *sql.Tx, limit int, removed []change) ([]change, error) {
	rows, err := tx.QueryContext(ctx,
		"DELETE FROM orders WHERE hash IN (SELECT hash FROM orders WHERE pinned IN (0, 1) AND expiration_time_seconds <= "+s.d.placeholder(1)+" LIMIT "+s.d.placeholder(2)+") RETURNING "+leftColumns,
		s.lim.cutoff(), limit)
	if err != nil {
		return nil, err
	}
	left, err := s.scanLeft(rows, nil, orderstore.ChangeExpired)
	if err != nil {
		return nil, err
	}
	for _, l := range left {
		removed = append(removed, l.change)
	}
	return removed, nil
}

// ExpireOrders deletes the orders expired now and returns how many (see
// orderstore.Expirer). The pruner does this by itself; without WithExpiry
// it deletes nothing.
func (s *Store) ExpireOrders(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return s.expire(ctx, true)
}
