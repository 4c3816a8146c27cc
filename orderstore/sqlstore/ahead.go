package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/parallel"
	"github.com/ordersync/ordersync/orderstore"
)

// The pruner deletes expired orders pruneBatch a transaction: at a mass
// expiry that takes seconds to minutes. A reconciliation snapshot must
// leave them out at once, and the index holds no expirations to filter
// by. So a snapshot that finds orders due takes them out of the index
// itself, ahead of the pruner: it reads the due rows (hash, class,
// expiration) through orders_by_expiration, without the writer, removes
// them from the index and remembers them as gone. The commit, or the
// change log's entry, that later deletes such a row then leaves the index
// alone. Pages and lookups need none of this: their queries leave expired
// rows out.

// ahead is what a Store took out of its reconciliation index before the
// rows were deleted. mu lets one snapshot at a time take orders out; the
// rest is guarded by Store.recMu.
type ahead struct {
	mu sync.Mutex

	// gone holds the rows taken out of the index whose deletion has not
	// reached it yet.
	gone map[common.Hash]dueRow
	// upTo is the cutoff taken out so far: every row expiring at or
	// before it is deleted or in gone. math.MinInt64 when none is.
	upTo int64
	// gen moves when the index is read from the table again, which voids
	// a taking under way.
	gen uint64

	// While a taking reads the table (watching), every change to the
	// index is noted: the rows removed meanwhile, which it must not
	// remove again, and whether any row was added, which its read may
	// have missed.
	watching bool
	removed  map[common.Hash]struct{}
	added    bool
}

// dueRow is a row taken out of the index, with its expiration, so that it
// can be put back if the clock goes back.
type dueRow struct {
	c   change
	exp int64
}

// resetAhead forgets what was taken out, for an index just read from the
// table. The caller holds recMu.
func (s *Store) resetAhead() {
	a := &s.ahead
	a.gone, a.upTo = nil, math.MinInt64
	a.gen++
}

// index records an added row in the index. The caller holds recMu.
func (s *Store) index(c change, lanes *orderstore.OrderLanes) {
	if s.ahead.watching {
		s.ahead.added = true
	}
	s.rec.Add(c.hash, classOrder(c), lanes)
}

// unindex records a deleted row in the index, unless a snapshot took it
// out already. The caller holds recMu.
func (s *Store) unindex(c change, lanes *orderstore.OrderLanes) {
	a := &s.ahead
	if a.watching {
		a.removed[c.hash] = struct{}{}
	}
	if _, ok := a.gone[c.hash]; ok {
		delete(a.gone, c.hash)
		return
	}
	s.rec.Remove(c.hash, classOrder(c), lanes)
}

// leaveOutExpired takes the orders expired now out of the built index,
// before a snapshot, without waiting for the pruner (which it wakes). If
// the due rows cannot be read, it falls back to having the writer delete
// them.
func (s *Store) leaveOutExpired(ctx context.Context) {
	if s.lim == nil || !s.lim.expiry {
		return
	}
	cutoff := s.lim.cutoff()
	if s.lim.next.Load() <= cutoff {
		s.nudgePruner()
	} else if !s.d.changeLog {
		// next is exact: this Store alone writes the table. Another
		// process's orders do not move it, so on PostgreSQL the table
		// is asked (one step into orders_by_expiration, past what was
		// taken before).
		return
	}
	// An index read again from the table meanwhile voids a taking: it
	// holds the due rows again.
	for range 3 {
		switch s.takeAhead(ctx, cutoff) {
		case taken:
			return
		case failed:
			s.expire(ctx, false)
			return
		}
	}
	s.expire(ctx, false)
}

// takeAhead's outcomes.
const (
	taken = iota
	failed
	voided
)

// takeAhead takes out of the index the rows expiring after what it took
// before and at or before cutoff.
func (s *Store) takeAhead(ctx context.Context, cutoff int64) int {
	a := &s.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	s.recMu.Lock()
	if s.rec == nil {
		s.recMu.Unlock()
		return taken
	}
	if cutoff < a.upTo {
		s.putBack(cutoff)
	}
	if cutoff == a.upTo {
		s.recMu.Unlock()
		return taken
	}
	from, gen := a.upTo, a.gen
	a.watching, a.removed, a.added = true, make(map[common.Hash]struct{}), false
	s.recMu.Unlock()

	due, head, err := s.readDue(ctx, from, cutoff)
	if err == nil && s.d.changeLog {
		err = s.catchUp(ctx, head)
	}
	var lanes []orderstore.OrderLanes
	if err == nil {
		lanes = make([]orderstore.OrderLanes, len(due))
		parallel.For(len(due), 64, func(i int) { lanes[i] = orderstore.LanesOf(due[i].c.hash) })
	}

	s.recMu.Lock()
	defer s.recMu.Unlock()
	removed, added := a.removed, a.added
	a.watching, a.removed, a.added = false, nil, false
	switch {
	case err != nil:
		return failed
	case a.gen != gen:
		return voided
	}
	if a.gone == nil {
		a.gone = make(map[common.Hash]dueRow, len(due))
	}
	took := 0
	for i, r := range due {
		if _, ok := removed[r.c.hash]; ok {
			continue // deleted meanwhile, and out of the index already
		}
		if _, ok := a.gone[r.c.hash]; ok {
			continue
		}
		s.rec.Remove(r.c.hash, classOrder(r.c), &lanes[i])
		a.gone[r.c.hash] = r
		took++
	}
	if took > 0 {
		s.version++
	}
	if !added {
		// A row added meanwhile may be due and missing from the read:
		// then the next snapshot reads this range again.
		a.upTo = cutoff
	}
	return taken
}

// putBack returns to the index the rows taken out that are no longer due
// at cutoff (the clock went back). The caller holds recMu.
func (s *Store) putBack(cutoff int64) {
	a := &s.ahead
	back := 0
	for h, r := range a.gone {
		if r.exp > cutoff {
			lanes := orderstore.LanesOf(h)
			s.rec.Add(h, classOrder(r.c), &lanes)
			delete(a.gone, h)
			back++
		}
	}
	if back > 0 {
		s.version++
	}
	a.upTo = cutoff
}

// readDue reads the unpinned and pinned rows expiring after from and at or
// before to, and (on a database with a change log) the log's head as of
// the same snapshot.
func (s *Store) readDue(ctx context.Context, from, to int64) ([]dueRow, int64, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.changeLog {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var head int64
	if s.d.changeLog {
		if err := tx.QueryRowContext(ctx, "SELECT seq FROM ordersync_change_head").Scan(&head); err != nil {
			return nil, 0, fmt.Errorf("read the change log's head: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx,
		"SELECT hash, chain_id, exchange_address, expiration_time_seconds FROM orders WHERE pinned IN (0, 1) AND expiration_time_seconds > "+
			s.d.placeholder(1)+" AND expiration_time_seconds <= "+s.d.placeholder(2),
		from, to)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var due []dueRow
	for rows.Next() {
		var r dueRow
		var hash []byte
		if err := rows.Scan(&hash, &r.c.chainID, &r.c.exchange, &r.exp); err != nil {
			return nil, 0, err
		}
		r.c.hash = common.BytesToHash(hash)
		due = append(due, r)
	}
	return due, head, rows.Err()
}

// catchUp has the index take in the change log up to head, so that it
// holds every row a read as of head found.
func (s *Store) catchUp(ctx context.Context, head int64) error {
	for {
		s.recMu.Lock()
		seen := s.seen
		s.recMu.Unlock()
		if seen >= head {
			return nil
		}
		if !s.followOnce(ctx) {
			s.recMu.Lock()
			seen = s.seen
			s.recMu.Unlock()
			if seen < head {
				return fmt.Errorf("the change log ends at %d before its head %d", seen, head)
			}
		}
	}
}
