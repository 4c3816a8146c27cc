package orderstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/btree"

	"github.com/ordersync/ordersync/zeroex"
)

// btreeDegree is the fan-out of Memory's B-tree. 32 keeps nodes a few cache
// lines wide and the tree shallow at a million orders.
const btreeDegree = 32

// memoryItem is one stored order with its hash, kept beside the order so
// that comparisons never touch the order itself.
type memoryItem struct {
	hash  common.Hash
	order *zeroex.SignedOrder
}

// lessByHash orders items by hash as 32-byte big-endian numbers, which is
// byte-wise comparison.
func lessByHash(a, b memoryItem) bool {
	return bytes.Compare(a.hash[:], b.hash[:]) < 0
}

// Memory is an in-memory Store, ordered by order hash. It is safe for
// concurrent use: readers share a lock, writers take it alone. The zero
// value is not usable; call NewMemory.
type Memory struct {
	mu   sync.RWMutex
	tree *btree.BTreeG[memoryItem]
	// version moves on every change; rec is the reconciliation index,
	// built on first use (memory_reconcile.go).
	version uint64
	rec     *ReconcileIndex
	indexed atomic.Bool // rec != nil
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{tree: btree.NewG(btreeDegree, lessByHash)}
}

// Len returns how many orders the store holds.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.tree.Len()
}

// Has reports whether the store holds the order with the given hash.
func (m *Memory) Has(hash common.Hash) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.tree.Has(memoryItem{hash: hash})
}

// Get returns the order with the given hash, if the store holds it.
func (m *Memory) Get(hash common.Hash) (*zeroex.SignedOrder, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	item, ok := m.tree.Get(memoryItem{hash: hash})
	return item.order, ok
}

// AddOrders stores orders, keyed by their order hash (computed here and
// cached on each order). An order whose hash is already stored is skipped,
// so adding the same orders twice is harmless. It returns how many orders
// were new. A nil order or one whose hash cannot be computed fails the
// whole call before anything is stored.
func (m *Memory) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Hash outside the lock: it is the slow part, and readers should not
	// wait for it.
	items := make([]memoryItem, len(orders))
	for i, o := range orders {
		if o == nil {
			return 0, fmt.Errorf("orderstore: order %d: nil", i)
		}
		hash, err := o.ComputeOrderHash()
		if err != nil {
			return 0, fmt.Errorf("orderstore: order %d: %w", i, err)
		}
		items[i] = memoryItem{hash: hash, order: o}
	}
	lanes := m.lanesToAdd(items)

	m.mu.Lock()
	defer m.mu.Unlock()
	added := 0
	for i, item := range items {
		// One descent for a new order; a duplicate puts the first copy
		// back, so that adding stays a no-op for it.
		if old, replaced := m.tree.ReplaceOrInsert(item); replaced {
			m.tree.ReplaceOrInsert(old)
			continue
		}
		added++
		m.indexAdd(item, lanes, i)
	}
	return added, nil
}

// Remove deletes the orders with the given hashes, as when a provider's
// orders expire or are filled. Hashes the store does not hold are ignored.
// It returns how many orders were removed.
func (m *Memory) Remove(ctx context.Context, hashes ...common.Hash) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	lanes := m.lanesToRemove(hashes)
	m.mu.Lock()
	defer m.mu.Unlock()
	removed := 0
	for i, h := range hashes {
		if item, ok := m.tree.Delete(memoryItem{hash: h}); ok {
			removed++
			m.indexRemove(item, lanes, i)
		}
	}
	return removed, nil
}

// OrdersAfter returns up to limit orders whose hash is strictly greater than
// after, ascending by hash. See Store.
func (m *Memory) OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, fmt.Errorf("orderstore: limit %d: negative", limit)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	// Size the result by what the store holds, not by what the caller asks:
	// limit may come from a peer.
	orders := make([]*zeroex.SignedOrder, 0, min(limit, m.tree.Len()))
	m.ascendAfter(after, func(item memoryItem) bool {
		if len(orders) >= limit {
			return false
		}
		orders = append(orders, item.order)
		return true
	})
	return orders, nil
}

// ascendAfter calls fn on every item whose hash is strictly greater than
// after, in hash order, until fn returns false. The caller holds m.mu.
func (m *Memory) ascendAfter(after common.Hash, fn func(memoryItem) bool) {
	m.tree.AscendGreaterOrEqual(memoryItem{hash: after}, func(item memoryItem) bool {
		if item.hash == after {
			return true
		}
		return fn(item)
	})
}

var _ Getter = (*Memory)(nil)
