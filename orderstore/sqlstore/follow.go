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
// changes the orders also appends its changes to ordersync_changes,
// numbered by a counter in ordersync_change_head that the transaction
// holds locked until it commits, so changes commit in the order of their
// numbers. Every Store reads the log after the last number it has seen, a
// few times a second, and applies the changes other Stores made to its
// reconciliation index and version (docs/schema.md, version 3).

// followEvery is how often a Store reads the change log: other processes'
// changes reach its index within about that.
const followEvery = 200 * time.Millisecond

// followBatch is how many logged changes one read takes.
const followBatch = 10_000

// changesPerInsert is how many log rows one INSERT carries.
const changesPerInsert = 10_000

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
// commits after this one. The UPDATE and the first changesPerInsert
// changes go in one statement: one round trip a page.
func (s *Store) logChanges(ctx context.Context, tx *sql.Tx, added, removed []change) error {
	n := len(added) + len(removed)
	if !s.d.changeLog || n == 0 {
		return nil
	}
	first := min(n, changesPerInsert)
	var last int64
	args := append([]any{int64(n), s.writerID}, loggedColumns(added, removed, 0, first)...)
	if err := tx.QueryRowContext(ctx, headAndLogSQL, args...).Scan(&last); err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	for start := first; start < n; start += changesPerInsert {
		args := append([]any{last - int64(n) + int64(start), s.writerID}, loggedColumns(added, removed, start, min(start+changesPerInsert, n))...)
		if _, err := tx.ExecContext(ctx, loggedInsertSQL, args...); err != nil {
			return fmt.Errorf("change log: %w", err)
		}
	}
	if last/pruneEvery != (last-int64(n))/pruneEvery && last > keepChanges {
		if _, err := tx.ExecContext(ctx, "DELETE FROM ordersync_changes WHERE seq <= $1", last-keepChanges); err != nil {
			return fmt.Errorf("change log: prune: %w", err)
		}
	}
	return nil
}

// loggedFrom is where the log's INSERT takes its changes: columns bound
// as arrays $3 to $7 (postgres.go), numbered by their ordinal n from 1;
// $2 is the writer.
const loggedFrom = ` unnest($3::bytea[], $4::bigint[], $5::bytea[], $6::boolean[], $7::smallint[])
		WITH ORDINALITY AS l (h, c, x, r, k, n)`

// headAndLogSQL moves the head by $1 and logs the changes numbered after
// where it was; it returns the new head.
const headAndLogSQL = `WITH head AS (UPDATE ordersync_change_head SET seq = seq + $1 RETURNING seq),
	logged AS (INSERT INTO ordersync_changes (seq, hash, chain_id, exchange_address, removed, writer, kind)
		SELECT head.seq - $1 + n, h, c, x, r, $2, k FROM head,` + loggedFrom + `)
	SELECT seq FROM head`

// loggedInsertSQL logs more changes, numbered from $1 + 1 on.
const loggedInsertSQL = `INSERT INTO ordersync_changes (seq, hash, chain_id, exchange_address, removed, writer, kind)
	SELECT $1 + n, h, c, x, r, $2, k FROM` + loggedFrom

// loggedColumns are the columns of changes start to end (of added
// followed by removed) for loggedFrom.
func loggedColumns(added, removed []change, start, end int) []any {
	hashes := make([][]byte, 0, end-start)
	ids := make([]int64, end-start)
	chains := make([]*int64, 0, end-start)
	exchanges := make([][]byte, 0, end-start)
	gone := make([]bool, 0, end-start)
	kinds := make([]int16, 0, end-start)
	for i := start; i < end; i++ {
		c, r := changeAt(added, removed, i)
		hashes = append(hashes, c.hash.Bytes())
		var id *int64
		if c.chainID.Valid {
			ids[i-start] = c.chainID.Int64
			id = &ids[i-start]
		}
		chains = append(chains, id)
		exchanges = append(exchanges, nonNil(c.exchange))
		gone = append(gone, r)
		kinds = append(kinds, int16(c.kind))
	}
	return []any{hashes, chains, exchanges, gone, kinds}
}

// changeAt is the i-th change of added followed by removed.
func changeAt(added, removed []change, i int) (change, bool) {
	if i < len(added) {
		return added[i], false
	}
	return removed[i-len(added)], true
}

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
	got, err := s.readLog(ctx, from)
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
	if got[0].seq != from+1 {
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
	return len(got) == followBatch
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

// readLog reads up to followBatch changes logged after seq from. Of this
// Store's own changes, which it skips, only the number and the writer come
// back: a sync's own 100 000 changes cost it no more than that.
func (s *Store) readLog(ctx context.Context, from int64) ([]logged, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT seq, writer, removed, kind, CASE WHEN writer = $3 THEN NULL ELSE hash END,
			CASE WHEN writer = $3 THEN NULL ELSE chain_id END, CASE WHEN writer = $3 THEN NULL ELSE exchange_address END
		FROM ordersync_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
		from, followBatch, s.writerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []logged
	for rows.Next() {
		var g logged
		var hash sql.RawBytes
		var kind int16
		if err := rows.Scan(&g.seq, &g.writer, &g.removed, &kind, &hash, &g.c.chainID, &g.c.exchange); err != nil {
			return nil, err
		}
		g.c.kind = orderstore.ChangeKind(kind)
		g.c.hash = common.BytesToHash(hash)
		got = append(got, g)
	}
	return got, rows.Err()
}
