package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/parallel"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

var (
	_ orderstore.WholeReconciler = (*Store)(nil)
	_ orderstore.Versioned       = (*Store)(nil)
)

// Version returns a number that changes whenever this Store adds or
// removes an order. On PostgreSQL, other processes' writes to the same
// database move it too, within about 200 ms (docs/schema.md, version 3);
// on SQLite they do not.
func (s *Store) Version() uint64 {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	return s.version
}

// ReconcileSnapshot returns the reconciliation snapshot of the stored
// orders of class (see orderstore.Reconciler). The first call builds the
// index, holding the writer off meanwhile: one pass over an index that
// holds hashes, chain IDs and exchanges only, not the orders
// (orders_by_hash on SQLite, the primary key on PostgreSQL), and about
// 1.5 µs an order on all cores. From then on every commit keeps it current.
// The index takes a fixed amount of memory per class of orders, nothing
// per order. With WithExpiry the snapshot leaves out the orders expired
// now without waiting for the pruner to delete them: it takes them out of
// the index itself (ahead.go). If building it fails (the database is unreadable), the
// snapshot is empty with IndexSymbols 0; BuildReconcileIndex reports the
// error.
func (s *Store) ReconcileSnapshot(class orderstore.Class, symbols int) orderstore.ReconcileSnapshot {
	if err := s.BuildReconcileIndex(s.life); err != nil {
		return orderstore.ReconcileSnapshot{Version: s.Version()}
	}
	s.leaveOutExpired(s.life)
	s.recMu.Lock()
	defer s.recMu.Unlock()
	snap := s.rec.Snapshot(class, symbols)
	snap.Version = s.version
	return snap
}

// ReconcileSnapshotAll is ReconcileSnapshot of every stored order, whatever
// its class (see orderstore.WholeReconciler), from the same index.
func (s *Store) ReconcileSnapshotAll(symbols int) orderstore.ReconcileSnapshot {
	if err := s.BuildReconcileIndex(s.life); err != nil {
		return orderstore.ReconcileSnapshot{Version: s.Version()}
	}
	s.leaveOutExpired(s.life)
	s.recMu.Lock()
	defer s.recMu.Unlock()
	snap := s.rec.SnapshotAll(symbols)
	snap.Version = s.version
	return snap
}

// BuildReconcileIndex builds the reconciliation index now, if it is not
// built yet, instead of on the first ReconcileSnapshot.
func (s *Store) BuildReconcileIndex(ctx context.Context) error {
	if s.indexed.Load() {
		return nil
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if s.rec != nil {
		return nil
	}
	rec, head, err := s.readIndex(ctx)
	if err != nil {
		return err
	}
	s.rec = rec
	s.seen = head // what the table showed; the follower goes on from there
	s.resetAhead()
	s.indexed.Store(true)
	return nil
}

// readIndex reads the reconciliation index from the table, and (on a
// database with a change log) the log's head as of the same snapshot. The
// caller holds recMu, so this Store commits nothing meanwhile.
func (s *Store) readIndex(ctx context.Context) (*orderstore.ReconcileIndex, int64, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.changeLog {
		// The head and the table as of one moment.
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, s.readError(ctx, err)
	}
	defer tx.Rollback()
	var head int64
	if s.d.changeLog {
		if err := tx.QueryRowContext(ctx, "SELECT seq FROM ordersync_change_head").Scan(&head); err != nil {
			return nil, 0, s.readError(ctx, fmt.Errorf("read the change log's head: %w", err))
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT hash, chain_id, exchange_address FROM orders")
	if err != nil {
		return nil, 0, s.readError(ctx, err)
	}
	defer rows.Close()
	// The scan is one thread; the lanes take all cores. Batches go from
	// the one to the other, so that they overlap.
	rec := orderstore.NewReconcileIndex(0)
	batches := make(chan []change, 2)
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		lanes := make([]orderstore.OrderLanes, indexBatch)
		for batch := range batches {
			parallel.For(len(batch), 64, func(i int) { lanes[i] = orderstore.LanesOf(batch[i].hash) })
			for i := range batch {
				rec.Add(batch[i].hash, classOrder(batch[i]), &lanes[i])
			}
		}
	}()
	err = scanIndexRows(rows, batches)
	close(batches)
	<-indexed
	if err != nil {
		return nil, 0, s.readError(ctx, fmt.Errorf("build the reconciliation index: %w", err))
	}
	return rec, head, nil
}

// indexBatch is how many rows the index build hands on at a time.
const indexBatch = 4096

// scanIndexRows reads rows of hash, chain_id, exchange_address into
// batches of indexBatch changes.
func scanIndexRows(rows *sql.Rows, batches chan<- []change) error {
	batch := make([]change, 0, indexBatch)
	for rows.Next() {
		var c change
		var hash []byte
		if err := rows.Scan(&hash, &c.chainID, &c.exchange); err != nil {
			return err
		}
		c.hash = common.BytesToHash(hash)
		batch = append(batch, c)
		if len(batch) == indexBatch {
			batches <- batch
			batch = make([]change, 0, indexBatch)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	return rows.Err()
}

// commitIndexed commits tx and, under the index's lock (so that a build
// sees each commit either in the table or as changes, never both), settles
// the counts, moves the version, tells the change feed and records the
// changes in the index if it is built.
func (s *Store) commitIndexed(tx *sql.Tx, added, removed []change) error {
	// The costly part, outside the lock.
	var addLanes, removeLanes []orderstore.OrderLanes
	if s.indexed.Load() {
		addLanes, removeLanes = lanesOf(added), lanesOf(removed)
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if err := tx.Commit(); err != nil {
		return err
	}
	// The counts first: a subscriber told of a change finds Stats
	// already counting it.
	s.settle(added, removed)
	if len(added)+len(removed) == 0 {
		return nil
	}
	s.version++
	s.publish(added, removed)
	if s.rec == nil {
		return nil
	}
	if addLanes == nil {
		addLanes, removeLanes = lanesOf(added), lanesOf(removed)
	}
	for i := range added {
		s.index(added[i], &addLanes[i])
	}
	for i := range removed {
		s.unindex(removed[i], &removeLanes[i])
	}
	return nil
}

// publish hands committed changes to the change feed. The caller holds
// recMu, so that subscribers see changes in the order they committed.
func (s *Store) publish(added, removed []change) {
	if !s.feed.Active() {
		return
	}
	// Evictions first, as Memory reports them: they made room for the
	// orders added.
	for _, c := range removed {
		if c.kind == orderstore.ChangeEvicted {
			s.feed.Publish(orderstore.Change{Kind: c.kind, Hash: c.hash, Order: c.order})
		}
	}
	for _, c := range added {
		s.feed.Publish(orderstore.Change{Kind: orderstore.ChangeAdded, Hash: c.hash, Order: c.order})
	}
	for _, c := range removed {
		if c.kind != orderstore.ChangeEvicted {
			s.feed.Publish(orderstore.Change{Kind: leftKind(c.kind), Hash: c.hash, Order: c.order})
		}
	}
}

func lanesOf(changes []change) []orderstore.OrderLanes {
	lanes := make([]orderstore.OrderLanes, len(changes))
	parallel.For(len(changes), 64, func(i int) { lanes[i] = orderstore.LanesOf(changes[i].hash) })
	return lanes
}

// classOrder is an order with only the fields orderstore.ClassOf reads:
// the index needs an order's class, and the row has it without decoding
// the order. A NULL chain ID (one beyond int64) has no class.
func classOrder(c change) *zeroex.SignedOrder {
	o := &zeroex.SignedOrder{}
	if c.chainID.Valid {
		o.ChainID = big.NewInt(c.chainID.Int64)
	}
	o.ExchangeAddress = common.BytesToAddress(c.exchange)
	return o
}
