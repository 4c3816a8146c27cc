package orderstore

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/parallel"
)

var (
	_ WholeReconciler = (*Memory)(nil)
	_ Versioned       = (*Memory)(nil)
)

// Version returns a number that changes whenever an order is added or
// removed.
func (m *Memory) Version() uint64 {
	m.expireDue()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.version
}

// ReconcileSnapshot returns the reconciliation snapshot of the stored
// orders of class (see Reconciler). The first call builds the index over
// every stored order, on all cores and holding writers off meanwhile
// (about a second per million orders); from then on AddOrders and Remove
// keep it current, at about 1.5 µs per order changed, most of it outside
// the lock. A query copies the symbols asked for and nothing else.
func (m *Memory) ReconcileSnapshot(class Class, symbols int) ReconcileSnapshot {
	if !m.indexed.Load() {
		m.buildIndex()
	}
	m.expireDue()
	m.mu.RLock()
	defer m.mu.RUnlock()
	snap := m.rec.Snapshot(class, symbols)
	snap.Version = m.version
	return snap
}

// ReconcileSnapshotAll is ReconcileSnapshot of every stored order,
// whatever its class (see WholeReconciler), from the same index.
func (m *Memory) ReconcileSnapshotAll(symbols int) ReconcileSnapshot {
	if !m.indexed.Load() {
		m.buildIndex()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	snap := m.rec.SnapshotAll(symbols)
	snap.Version = m.version
	return snap
}

// buildIndex builds the reconciliation index, once.
func (m *Memory) buildIndex() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec != nil {
		return
	}
	items := make([]memoryItem, 0, m.tree.Len())
	m.tree.Ascend(func(item memoryItem) bool {
		items = append(items, item)
		return true
	})
	lanes := lanesOfItems(items)
	rec := NewReconcileIndex(0)
	for i := range items {
		rec.Add(items[i].hash(), items[i].order, &lanes[i])
	}
	m.rec = rec
	m.indexed.Store(true)
}

// lanesToAdd computes, outside the lock, the digest lanes of orders about
// to be added, when the index exists (nil otherwise).
func (m *Memory) lanesToAdd(items []memoryItem) []OrderLanes {
	if !m.indexed.Load() {
		return nil
	}
	return lanesOfItems(items)
}

// lanesToRemove is lanesToAdd for hashes about to be removed.
func (m *Memory) lanesToRemove(hashes []common.Hash) []OrderLanes {
	if !m.indexed.Load() {
		return nil
	}
	lanes := make([]OrderLanes, len(hashes))
	parallel.For(len(hashes), 64, func(i int) { lanes[i] = LanesOf(hashes[i]) })
	return lanes
}

// indexAdd records item i, just added, in the index. The caller holds the
// write lock.
func (m *Memory) indexAdd(item memoryItem, lanes []OrderLanes, i int) {
	m.version++
	if m.rec == nil {
		return
	}
	if lanes == nil { // the index was built after the lanes were due
		l := LanesOf(item.hash())
		m.rec.Add(item.hash(), item.order, &l)
		return
	}
	m.rec.Add(item.hash(), item.order, &lanes[i])
}

// indexRemove records item, just removed, in the index; lanes are its
// digest lanes, or nil to compute them. The caller holds the write lock.
func (m *Memory) indexRemove(item memoryItem, lanes *OrderLanes) {
	m.version++
	if m.rec == nil {
		return
	}
	if lanes == nil {
		l := LanesOf(item.hash())
		lanes = &l
	}
	m.rec.Remove(item.hash(), item.order, lanes)
}

// lanesOfItems computes the lanes of many hashes on all cores.
func lanesOfItems(items []memoryItem) []OrderLanes {
	lanes := make([]OrderLanes, len(items))
	parallel.For(len(items), 64, func(i int) { lanes[i] = LanesOf(items[i].hash()) })
	return lanes
}
