package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
)

// Several processes may share one PostgreSQL database. Each commit that
// changes the orders also appends its changes to the change log,
// ordersync_change_sets, one row a transaction (schema version 7),
// numbered by a counter in ordersync_change_head that the transaction
// holds locked until it commits, so changes commit in the order of their
// numbers. Every Store reads the log after the last number it has seen, a
// few times a second, and applies the changes other Stores made to its
// reconciliation index and version (docs/schema.md, versions 3 and 7).

// followEvery is how often a Store reads the change log: other processes'
// changes reach its index within about that.
const followEvery = 200 * time.Millisecond

// followBatch is about how many logged changes one read takes: it takes
// sets until they hold that many (so at most followBatch + changesPerSet - 1
// changes), and at most followSets sets.
const (
	followBatch = 10_000
	followSets  = 20
)

// changesPerSet is how many changes one row of the log holds at most: a
// transaction with more writes several rows.
const changesPerSet = 10_000

// keepChanges is how many changes the log keeps; pruneEvery, how often a
// writer prunes it. A Store that falls further behind reads its index from
// the table again.
const (
	keepChanges = 1_000_000
	pruneEvery  = 10_000
)

// newWriterID returns the number that marks this Store's changes in the
// log, so that it skips them there (it applied them when it committed).
func newWriterID() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// logChanges appends a transaction's changes to the log, numbered after
// every change committed before them. The UPDATE of the head locks it
// until tx ends, so a concurrent writer's numbers come after these and it
// commits after this one. The UPDATE and the first set go in one
// statement: one round trip a page.
func (s *Store) logChanges(ctx context.Context, tx *sql.Tx, added, removed []change) error {
	n := len(added) + len(removed)
	if !s.d.changeLog || n == 0 {
		return nil
	}
	first := min(n, changesPerSet)
	packed, err := appendLogged(nil, added, removed, 0, first)
	if err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	var last int64
	if err := tx.QueryRowContext(ctx, headAndLogSQL, int64(n), int64(first), s.writerID, packed).Scan(&last); err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	for start := first; start < n; start += changesPerSet {
		end := min(start+changesPerSet, n)
		if packed, err = appendLogged(packed[:0], added, removed, start, end); err != nil {
			return fmt.Errorf("change log: %w", err)
		}
		setLast := last - int64(n) + int64(end)
		if _, err := tx.ExecContext(ctx, loggedInsertSQL, setLast, end-start, s.writerID, packed); err != nil {
			return fmt.Errorf("change log: %w", err)
		}
	}
	if last/pruneEvery != (last-int64(n))/pruneEvery && last > keepChanges {
		if _, err := tx.ExecContext(ctx, "DELETE FROM ordersync_change_sets WHERE last <= $1", last-keepChanges); err != nil {
			return fmt.Errorf("change log: prune: %w", err)
		}
	}
	return nil
}

// headAndLogSQL moves the head by $1, all of the transaction's changes,
// and logs the first $2 of them, packed in $4 by writer $3, as the set
// numbered from where the head was; it returns the new head.
const headAndLogSQL = `WITH head AS (UPDATE ordersync_change_head SET seq = seq + $1 RETURNING seq),
	logged AS (INSERT INTO ordersync_change_sets (last, n, writer, changes)
		SELECT head.seq - $1 + $2, $2, $3, $4 FROM head)
	SELECT seq FROM head`

// loggedInsertSQL logs a further set of the transaction's changes.
const loggedInsertSQL = `INSERT INTO ordersync_change_sets (last, n, writer, changes) VALUES ($1, $2, $3, $4)`

// startFollowing reads the log's head (the table already shows what came
// before it) and starts the goroutine that follows the log.
func (s *Store) startFollowing(ctx context.Context) error {
	if err := s.read.QueryRowContext(ctx, "SELECT seq FROM ordersync_change_head").Scan(&s.seen); err != nil {
		return fmt.Errorf("read the change log's head: %w", err)
	}
	s.fed = s.seen
	s.followDone = make(chan struct{})
	go s.follow()
	return nil
}

// follow reads the log until Close.
func (s *Store) follow() {
	defer close(s.followDone)
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-tick.C:
		}
		for s.followOnce(s.life) {
		}
	}
}

// logged is one change read from the log.
type logged struct {
	seq     int64
	c       change
	removed bool
	writer  int64
}

// followOnce reads the changes logged after the last one both the index
// and the feed have taken in, applies other Stores' changes to the index
// (those after seen) and publishes them (those after fed). It reports
// whether to read again at once. An error (the database is away) is tried
// again on the next tick.
func (s *Store) followOnce(ctx context.Context) bool {
	s.recMu.Lock()
	from := min(s.seen, s.fed)
	s.recMu.Unlock()
	got, first, full, err := s.readLog(ctx, from)
	if err != nil || len(got) == 0 {
		return false
	}
	s.fetchAdded(ctx, got)
	var lanes []orderstore.OrderLanes
	if s.indexed.Load() {
		lanes = make([]orderstore.OrderLanes, len(got))
		for i := range got {
			if got[i].writer != s.writerID {
				lanes[i] = orderstore.LanesOf(got[i].c.hash)
			}
		}
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if min(s.seen, s.fed) != from {
		return true // an index build moved on meanwhile: read from there
	}
	last := got[len(got)-1].seq
	if first != from+1 {
		// Pruned past what this Store had seen: the log cannot say what
		// changed (the feed misses it), the table can.
		s.version++
		s.fed = last
		if s.rec == nil {
			s.seen = last
			return true
		}
		rec, head, err := s.readIndex(ctx)
		if err != nil {
			return false
		}
		s.rec, s.seen, s.fed = rec, head, head
		s.resetAhead()
		return true
	}
	changed := false
	for i := range got {
		g := &got[i]
		if g.writer == s.writerID {
			continue
		}
		if g.seq > s.fed {
			s.publishLogged(g)
		}
		if g.seq <= s.seen {
			continue // in the index already: it was read from the table
		}
		changed = true
		s.countLogged(g.removed)
		if s.rec == nil {
			continue
		}
		l := orderstore.LanesOf(g.c.hash)
		if lanes != nil {
			l = lanes[i]
		}
		if g.removed {
			s.unindex(g.c, &l)
		} else {
			s.index(g.c, &l)
		}
	}
	if changed {
		s.version++
	}
	s.seen, s.fed = max(s.seen, last), max(s.fed, last)
	return full
}

// fetchAdded reads the orders other processes added, for the change feed
// when it has subscribers. An order removed since stays nil, as does every
// order when the read fails: the feed still reports the hash.
func (s *Store) fetchAdded(ctx context.Context, got []logged) {
	if !s.feed.Active() {
		return
	}
	var at []int
	var hashes []common.Hash
	for i := range got {
		if got[i].writer != s.writerID && !got[i].removed {
			at = append(at, i)
			hashes = append(hashes, got[i].c.hash)
		}
	}
	if len(hashes) == 0 {
		return
	}
	orders, err := s.GetMany(ctx, hashes)
	if err != nil {
		return
	}
	for k, i := range at {
		got[i].c.order = orders[k]
	}
}

// publishLogged hands another process's change to the change feed. The
// caller holds recMu.
func (s *Store) publishLogged(g *logged) {
	if !s.feed.Active() {
		return
	}
	kind := orderstore.ChangeAdded
	if g.removed {
		kind = leftKind(g.c.kind)
	}
	s.feed.Publish(orderstore.Change{Kind: kind, Hash: g.c.hash, Order: g.c.order})
}

// readLog reads the change sets logged after seq from, up to followSets
// sets and about followBatch changes: each change of another Store's
// sets, and of this Store's own, which it skips, only the set's last
// number and the writer (a sync's own 100 000 changes cost it no more than
// that). It also returns the first number the sets hold and whether it
// read as many as one read takes (more may wait).
func (s *Store) readLog(ctx context.Context, from int64) (got []logged, first int64, full bool, err error) {
	rows, err := s.read.QueryContext(ctx, readLogSQL, from, followSets, s.writerID, followBatch)
	if err != nil {
		return nil, 0, false, err
	}
	defer rows.Close()
	sets, changes := 0, 0
	for rows.Next() {
		var last, writer int64
		var n int
		var packed []byte
		if err := rows.Scan(&last, &n, &writer, &packed); err != nil {
			return nil, 0, false, err
		}
		if sets == 0 {
			first = last - int64(n) + 1
		}
		sets++
		changes += n
		if writer == s.writerID {
			got = append(got, logged{seq: last, writer: writer})
			continue
		}
		if got, err = appendSet(got, last, n, writer, packed); err != nil {
			return nil, 0, false, err
		}
	}
	return got, first, sets == followSets || changes >= followBatch, rows.Err()
}

// readLogSQL reads up to $2 sets after $1, stopping after the set that
// brings their changes to $4; of writer $3's sets, only the numbers.
const readLogSQL = `SELECT last, n, writer, CASE WHEN writer = $3 THEN NULL ELSE changes END
	FROM (SELECT last, n, writer, changes, sum(n) OVER (ORDER BY last) - n AS before
		FROM ordersync_change_sets WHERE last > $1 ORDER BY last LIMIT $2) AS s
	WHERE before < $4 ORDER BY last`
