package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// rowsPerInsert is how many rows one INSERT statement carries: 128 rows of
// 12 values stay far below either database's parameter limit.
const rowsPerInsert = 128

// maxGroupRows bounds how many rows the writer gathers from waiting calls
// into one transaction; a single larger call still commits alone, whole.
const maxGroupRows = 8192

// Request states: the writer takes a queued request, or its caller gives
// up on it first; whoever moves it out of queued decides.
const (
	stateQueued int32 = iota
	stateTaken
	stateAbandoned
)

// writeRequest is one AddOrders or Remove call waiting for the writer.
type writeRequest struct {
	ctx    context.Context
	rows   []row         // orders to add
	remove []common.Hash // hashes to remove
	// orders are the orders to add as the caller gave them, and at the
	// index of each hash in orders, for the change feed, which reports
	// them in the caller's order (both nil when it had no subscribers).
	orders []*zeroex.SignedOrder
	at     map[common.Hash]int
	// life, when set, has the writer judge the orders or prune
	// (admit.go).
	life  *lifeRequest
	state atomic.Int32
	done  chan writeResult // buffered: the writer never blocks on it
}

type writeResult struct {
	n   int
	err error
}

// submit hands req to the writer and waits for its result, or for ctx.
func (s *Store) submit(req *writeRequest) (int, error) {
	req.done = make(chan writeResult, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return 0, ErrClosed
	}
	select {
	case s.writes <- req:
	case <-req.ctx.Done():
		s.mu.RUnlock()
		return 0, req.ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case res := <-req.done:
		return res.n, res.err
	case <-req.ctx.Done():
		if req.state.CompareAndSwap(stateQueued, stateAbandoned) {
			return 0, req.ctx.Err()
		}
		// The writer has it: its transaction decides, so report that.
		res := <-req.done
		return res.n, res.err
	}
}

// runWriter is the writer goroutine: it takes a request, gathers those
// waiting behind it, and commits them together, until s.writes is closed.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	inserts := newInsertStatements(s)
	defer inserts.close()
	var group []*writeRequest
	for req := range s.writes {
		group = append(group[:0], req)
		rows := len(req.rows)
	gather:
		for rows < maxGroupRows {
			select {
			case more, ok := <-s.writes:
				if !ok {
					break gather
				}
				group = append(group, more)
				rows += len(more.rows)
			default:
				break gather
			}
		}
		if !s.d.arrays {
			inserts.prepare(group)
		}
		s.commit(group, inserts)
	}
}

// commit runs the requests of group that are still wanted in one
// transaction and tells each its result.
func (s *Store) commit(group []*writeRequest, inserts *insertStatements) {
	live := group[:0:0]
	for _, req := range group {
		if !req.state.CompareAndSwap(stateQueued, stateTaken) {
			continue // Its caller gave up.
		}
		if err := req.ctx.Err(); err != nil {
			req.done <- writeResult{err: err}
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return
	}
	counts, err := s.runGroup(live, inserts)
	if err != nil && inserts.conflicts.retry(err) {
		// A plain INSERT met a stored hash (conflicts.go).
		counts, err = s.runGroup(live, inserts)
	}
	inserts.conflicts.written()
	for i, req := range live {
		if err != nil {
			req.done <- writeResult{err: s.errorf("write: %w", err)}
			continue
		}
		if req.life != nil && req.life.err != nil {
			req.done <- writeResult{err: s.errorf("%w", req.life.err)}
			continue
		}
		req.done <- writeResult{n: counts[i]}
	}
}

// change is one row a transaction added or removed, with what the
// reconciliation index needs of it.
type change struct {
	hash     common.Hash
	chainID  sql.NullInt64
	exchange []byte
	// kind is why a removed row left: orderstore.ChangeRemoved when 0.
	kind orderstore.ChangeKind
	// order is the order added or removed, for the change feed: set when
	// the feed has subscribers, and for another process's change only when
	// the order could still be read.
	order *zeroex.SignedOrder
}

// runGroup is commit's transaction: the counts of rows each request added
// or removed, valid only when the commit succeeds. The reconciliation
// index, if built, learns the changes as the transaction commits.
func (s *Store) runGroup(group []*writeRequest, inserts *insertStatements) ([]int, error) {
	// The transaction is the group's, not one caller's: one caller's
	// context ending must not undo the others' writes.
	ctx := s.life
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	counts := make([]int, len(group))
	var added, removed []change
	for i, req := range group {
		if req.life != nil {
			if err := s.screen(ctx, tx, req); err != nil {
				return nil, err
			}
		}
		first := len(added)
		if added, err = s.insertAll(ctx, tx, inserts, req.rows, added); err != nil {
			return nil, err
		}
		counts[i] += len(added) - first
		req.fillOrders(added[first:])
		if req.life != nil {
			if err := s.noteAdded(ctx, tx, req, added[first:]); err != nil {
				return nil, err
			}
		}
		if len(req.remove) > 0 {
			before := len(removed)
			if removed, err = s.delete(ctx, tx, req.remove, removed); err != nil {
				return nil, err
			}
			counts[i] += len(removed) - before
		}
		if req.life != nil && req.life.prune > 0 {
			before := len(removed)
			if removed, err = s.expireBatch(ctx, tx, req.life.prune, removed); err != nil {
				return nil, err
			}
			counts[i] += len(removed) - before
		}
	}
	if s.lim != nil {
		s.lim.lowered = math.MaxInt64
		if added, removed, err = s.evictOver(ctx, tx, group, counts, added, removed); err != nil {
			return nil, err
		}
	}
	if err := s.logChanges(ctx, tx, added, removed); err != nil {
		return nil, err
	}
	if err := s.commitIndexed(tx, added, removed); err != nil {
		return nil, err
	}
	return counts, nil
}

// insertAll writes rows, skipping hashes already stored, and appends the
// rows that were new to added.
func (s *Store) insertAll(ctx context.Context, tx *sql.Tx, inserts *insertStatements, rows []row, added []change) ([]change, error) {
	if s.d.arrays {
		return s.insertArrays(ctx, tx, &inserts.conflicts, rows, added)
	}
	var err error
	for start := 0; start < len(rows); start += rowsPerInsert {
		chunk := rows[start:min(start+rowsPerInsert, len(rows))]
		if added, err = s.insert(ctx, tx, inserts.get(len(chunk)), chunk, added); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// insert writes one chunk of rows, skipping hashes already stored, and
// appends the rows that were new to added, through prepared, the INSERT of
// as many rows prepared beforehand, or when nil a statement of its own.
// (Only SQLite comes here: PostgreSQL binds arrays, insertArrays.)
//
// The INSERT returns nothing: when it inserted every row, as on a sync of
// new orders, the chunk is what was added; otherwise the rows it inserted
// are read back by rowid (insertedRows). RETURNING hash cost more: SQLite
// keeps the returned rows in a temporary table and steps through them one
// by one, for each of a sync's orders.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, prepared *sql.Stmt, chunk []row, added []change) ([]change, error) {
	args := make([]any, 0, len(chunk)*numColumns)
	for i := range chunk {
		args = append(args, chunk[i][:]...)
	}
	var res sql.Result
	var err error
	if prepared != nil {
		res, err = tx.StmtContext(ctx, prepared).ExecContext(ctx, args...)
	} else {
		res, err = tx.ExecContext(ctx, s.insertSQL(len(chunk)), args...)
	}
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return added, nil
	case n == int64(len(chunk)):
		for i := range chunk {
			added = append(added, rowChange(&chunk[i]))
		}
		return added, nil
	}
	last, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	return insertedRows(ctx, tx, chunk, n, last, added)
}

// insertedRows appends to added the n rows of chunk that an INSERT
// inserted, the last with rowid last. The writer is the database's only
// writer and a rowid table gives each new row the largest rowid plus one,
// so they are the rows last-n+1 to last; when that does not hold (a table
// whose largest rowid reached 2^63-1 gets random rowids), the write fails
// rather than tell the index and the feed of rows it did not add.
func insertedRows(ctx context.Context, tx *sql.Tx, chunk []row, n, last int64, added []change) ([]change, error) {
	rows, err := tx.QueryContext(ctx, "SELECT hash FROM orders WHERE rowid BETWEEN ? AND ?", last-n+1, last)
	if err != nil {
		return nil, err
	}
	before := len(added)
	if added, err = scanInserted(rows, chunk, added); err != nil {
		return nil, fmt.Errorf("the rows an INSERT added are not rowids %d to %d: %w", last-n+1, last, err)
	}
	if found := int64(len(added) - before); found != n {
		return nil, fmt.Errorf("an INSERT added %d rows, but rowids %d to %d hold %d", n, last-n+1, last, found)
	}
	return added, nil
}

// scanInserted appends to changes the rows of chunk whose hashes rows name
// (PostgreSQL's packed INSERT's RETURNING hash, or SQLite's read-back by
// rowid), and closes rows.
func scanInserted(rows *sql.Rows, chunk []row, changes []change) ([]change, error) {
	defer rows.Close()
	for rows.Next() {
		var hash sql.RawBytes
		if err := rows.Scan(&hash); err != nil {
			return nil, err
		}
		r := findRow(chunk, hash)
		if r == nil {
			return nil, fmt.Errorf("hash %x is not one of the rows the INSERT was given", []byte(hash))
		}
		changes = append(changes, rowChange(r))
	}
	return changes, rows.Err()
}

// rowChange is the change of adding r: its hash and class.
func rowChange(r *row) change {
	c := change{hash: common.Hash(r[0].([]byte)), exchange: r[2].([]byte)}
	if id, ok := r[1].(int64); ok {
		c.chainID = sql.NullInt64{Int64: id, Valid: true}
	}
	return c
}

// findRow is the row of chunk whose hash is hash, or nil. makeRows sorts a
// call's rows by hash, and what the writer drops from them keeps that order,
// so it searches by halves first.
func findRow(chunk []row, hash []byte) *row {
	cmp := func(r row, h []byte) int { return bytes.Compare(r[0].([]byte), h) }
	if i, ok := slices.BinarySearchFunc(chunk, hash, cmp); ok {
		return &chunk[i]
	}
	for i := range chunk {
		if cmp(chunk[i], hash) == 0 {
			return &chunk[i]
		}
	}
	return nil
}

// fillOrders sets the order of each of req's added changes, and puts them
// in the order the caller gave them, for the change feed.
func (req *writeRequest) fillOrders(added []change) {
	if req.at == nil {
		return
	}
	slices.SortFunc(added, func(a, b change) int { return req.at[a.hash] - req.at[b.hash] })
	for j := range added {
		added[j].order = req.orders[req.at[added[j].hash]]
	}
}

// scanRemoved appends the rows of a DELETE's RETURNING hash, chain_id,
// exchange_address, order_json to changes, and closes rows; it decodes the
// order for the change feed when that has subscribers.
func (s *Store) scanRemoved(rows *sql.Rows, changes []change) ([]change, error) {
	defer rows.Close()
	feed := s.feed.Active()
	for rows.Next() {
		var c change
		var hash, js []byte
		if err := rows.Scan(&hash, &c.chainID, &c.exchange, &js); err != nil {
			return nil, err
		}
		c.hash = common.BytesToHash(hash)
		if feed {
			o := new(zeroex.SignedOrder)
			if o.UnmarshalJSON(js) == nil {
				c.order = o
			}
		}
		changes = append(changes, c)
	}
	return changes, rows.Err()
}

// insertSQL is the INSERT of n rows that leaves stored hashes alone and
// returns nothing (insert).
func (s *Store) insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO orders (" + orderColumns + ") VALUES ")
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < numColumns; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s.d.placeholder(p))
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(s.d.onConflict)
	return b.String()
}

// delete removes the given hashes and appends the rows it removed to
// removed.
func (s *Store) delete(ctx context.Context, tx *sql.Tx, hashes []common.Hash, removed []change) ([]change, error) {
	for _, h := range hashes {
		rows, err := tx.QueryContext(ctx, "DELETE FROM orders WHERE hash = "+s.d.placeholder(1)+" RETURNING hash, chain_id, exchange_address, order_json", h.Bytes())
		if err != nil {
			return nil, err
		}
		if removed, err = s.scanRemoved(rows, removed); err != nil {
			return nil, err
		}
	}
	return removed, nil
}
