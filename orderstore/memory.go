package orderstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/btree"

	"github.com/ordersync/ordersync/zeroex"
)

// btreeDegree is the fan-out of Memory's B-tree. 32 keeps nodes a few cache
// lines wide and the tree shallow at a million orders.
const btreeDegree = 32

// memoryItem is one stored order in the B-tree: the first 8 bytes of its
// hash, big-endian, which order almost every comparison, and the order,
// whose cached hash (computed when it was added) orders the rare items that
// share a prefix. 16 bytes instead of the hash's 32 and a pointer: the
// tree's nodes are half full when orders arrive in hash order, as they do
// from a provider, so every byte of the item costs two per order. A probe,
// the key of a lookup, has no order and comes before every item of its
// prefix; lookups then step through that prefix's items.
type memoryItem struct {
	prefix uint64
	order  *zeroex.SignedOrder
}

// hashPrefix is the first 8 bytes of h, as a number that orders like them.
func hashPrefix(h *common.Hash) uint64 {
	return binary.BigEndian.Uint64(h[:8])
}

// itemFor is the item of order o with hash h.
func itemFor(h *common.Hash, o *zeroex.SignedOrder) memoryItem {
	return memoryItem{prefix: hashPrefix(h), order: o}
}

// probe is the key from which a lookup of h steps through the items of its
// prefix.
func probe(h *common.Hash) memoryItem {
	return memoryItem{prefix: hashPrefix(h)}
}

// hash is the item's full hash: its order's, cached since the order was
// added (see AddOrders), so this never hashes and never fails.
func (it memoryItem) hash() common.Hash {
	h, _ := storedHash(it.order)
	return h
}

// storedHash is the hash by which Memory keys an order: its order hash,
// cached on it. A variable only so that tests can give orders hashes that
// share a prefix, as real orders do once in 2^32 or so.
var storedHash = (*zeroex.SignedOrder).ComputeOrderHash

// lessByHash orders items by hash as 32-byte big-endian numbers, which is
// byte-wise comparison; a probe comes first among the items of its prefix.
func lessByHash(a, b memoryItem) bool {
	if a.prefix != b.prefix {
		return a.prefix < b.prefix
	}
	if a.order == nil || b.order == nil {
		return a.order == nil && b.order != nil
	}
	ha, hb := a.hash(), b.hash()
	return bytes.Compare(ha[8:], hb[8:]) < 0
}

// Memory is an in-memory Store, ordered by order hash. It is safe for
// concurrent use: readers share a lock, writers take it alone. The zero
// value is not usable; call NewMemory.
//
// Memory keeps the orders themselves, keyed by the hash cached on each
// when it was added: a stored order must not be changed (see zeroex).
//
// Besides Store it is a Getter, Remover, Admitter, Subscriber (every
// change, whoever makes it), Pinner, Capped and Expirer, and keeps its
// reconciliation index current through all of them. Expiry and capacity
// are off unless NewMemory is given WithExpiry or WithCapacity.
type Memory struct {
	mu   sync.RWMutex
	tree *btree.BTreeG[memoryItem]
	// version moves on every change; rec is the reconciliation index,
	// built on first use (memory_reconcile.go).
	version uint64
	rec     *ReconcileIndex
	indexed atomic.Bool // rec != nil

	cfg  memoryConfig
	feed ChangeFeed
	// life is the expiry-ordered index, with pinning and eviction
	// (memory_life.go); nil without expiry and capacity.
	life *memoryLife
	// publish is whether changes go to the feed in the write under way:
	// set under the write lock, so a write without subscribers builds no
	// changes.
	publish bool
	// counts of orders that left, by cause.
	expired, evicted, removed atomic.Uint64
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store. Without options it keeps
// every order it is given until Remove; see WithExpiry and WithCapacity.
// A store given WithExpiry runs a pruner and must be closed; Close is
// harmless on any other.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{tree: btree.NewG(btreeDegree, lessByHash)}
	for _, o := range opts {
		o(&m.cfg)
	}
	if m.cfg.now == nil {
		m.cfg.now = time.Now
	}
	if m.cfg.expiry || m.cfg.capacity > 0 {
		m.life = newMemoryLife()
	}
	if m.cfg.expiry {
		m.life.startPruner(m)
	}
	return m
}

// Len returns how many orders the store holds.
func (m *Memory) Len() int {
	m.expireDue()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.tree.Len()
}

// Has reports whether the store holds the order with the given hash.
func (m *Memory) Has(hash common.Hash) bool {
	_, ok := m.Get(hash)
	return ok
}

// Get returns the order with the given hash, if the store holds it.
func (m *Memory) Get(hash common.Hash) (*zeroex.SignedOrder, bool) {
	m.expireDue()
	m.mu.RLock()
	defer m.mu.RUnlock()
	item, ok := m.find(&hash)
	return item.order, ok
}

// find returns the item of hash h, if the store holds it. The caller holds
// m.mu.
func (m *Memory) find(h *common.Hash) (memoryItem, bool) {
	var found memoryItem
	m.tree.AscendGreaterOrEqual(probe(h), func(item memoryItem) bool {
		if item.prefix != hashPrefix(h) {
			return false
		}
		if item.hash() == *h {
			found = item
			return false
		}
		return true
	})
	return found, found.order != nil
}

// AddOrders stores orders, keyed by their order hash (computed here and
// cached on each order). An order whose hash is already stored is skipped,
// so adding the same orders twice is harmless. It returns how many orders
// were new. A nil order or one whose hash cannot be computed fails the
// whole call before anything is stored. With expiry or a capacity it
// refuses orders as Store allows (AdmitOrders says which and why).
func (m *Memory) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	return m.admit(ctx, orders, false, nil)
}

// AdmitOrders is AddOrders, saying what became of each order (see
// Admitter).
func (m *Memory) AdmitOrders(ctx context.Context, orders []*zeroex.SignedOrder) ([]Admission, error) {
	adm := make([]Admission, len(orders))
	if _, err := m.admit(ctx, orders, false, adm); err != nil {
		return nil, err
	}
	return adm, nil
}

// AddPinnedOrders is AddOrders for the operator's own orders (see Pinner).
// Pinning matters only to a store WithCapacity.
func (m *Memory) AddPinnedOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	return m.admit(ctx, orders, true, nil)
}

// admit adds orders, pinned or not, and returns how many were new; adm,
// when not nil, gets what became of each.
func (m *Memory) admit(ctx context.Context, orders []*zeroex.SignedOrder, pinned bool, adm []Admission) (int, error) {
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
		hash, err := storedHash(o)
		if err != nil {
			return 0, fmt.Errorf("orderstore: order %d: %w", i, err)
		}
		// A decoded order keeps the JSON it arrived as; held here for
		// long, it would cost about a kilobyte an order.
		o.ForgetJSON()
		items[i] = itemFor(&hash, o)
	}
	lanes := m.lanesToAdd(items)

	m.mu.Lock()
	defer m.mu.Unlock()
	m.publish = m.feed.Active()
	if m.life != nil {
		if adm == nil {
			adm = make([]Admission, len(items))
		}
		return m.lifeAdmit(items, lanes, pinned, adm)
	}
	added := 0
	for i, item := range items {
		// One descent for a new order; a duplicate puts the first copy
		// back, so that adding stays a no-op for it.
		if old, replaced := m.tree.ReplaceOrInsert(item); replaced {
			m.tree.ReplaceOrInsert(old)
			if adm != nil {
				adm[i] = AlreadyHeld
			}
			continue
		}
		added++
		if adm != nil {
			adm[i] = Admitted
		}
		m.indexAdd(item, lanes, i)
		if m.publish {
			m.announce(ChangeAdded, item)
		}
	}
	return added, nil
}

// announce publishes a change to item, when the write under way publishes.
// The caller holds the write lock.
func (m *Memory) announce(kind ChangeKind, item memoryItem) {
	if m.publish {
		m.feed.Publish(Change{Kind: kind, Hash: item.hash(), Order: item.order})
	}
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
	m.publish = m.feed.Active()
	removed := 0
	for i := range hashes {
		if item, ok := m.find(&hashes[i]); ok {
			var l *OrderLanes
			if lanes != nil {
				l = &lanes[i]
			}
			m.drop(item, l, ChangeRemoved)
			removed++
		}
	}
	m.afterLeaving()
	return removed, nil
}

// drop deletes item, which the store holds, for the reason kind; lanes
// are its digest lanes, or nil to compute them. The caller holds the
// write lock.
func (m *Memory) drop(item memoryItem, lanes *OrderLanes, kind ChangeKind) {
	m.tree.Delete(item)
	if m.life != nil {
		m.life.forget(item)
	}
	m.indexRemove(item, lanes)
	switch kind {
	case ChangeExpired:
		m.expired.Add(1)
	case ChangeEvicted:
		m.evicted.Add(1)
	case ChangeRemoved:
		m.removed.Add(1)
	}
	m.announce(kind, item)
}

// Subscribe starts a subscription to the store's changes (see
// Subscriber).
func (m *Memory) Subscribe(buffer int) *Subscription { return m.feed.Subscribe(buffer) }

// OrdersAfter returns up to limit orders whose hash is strictly greater than
// after, ascending by hash. See Store.
func (m *Memory) OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, fmt.Errorf("orderstore: limit %d: negative", limit)
	}
	m.expireDue()
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
	prefix := hashPrefix(&after)
	m.tree.AscendGreaterOrEqual(probe(&after), func(item memoryItem) bool {
		// Items of after's prefix may still be at or before it.
		if item.prefix == prefix {
			if h := item.hash(); bytes.Compare(h[:], after[:]) <= 0 {
				return true
			}
		}
		return fn(item)
	})
}

var (
	_ Getter     = (*Memory)(nil)
	_ Remover    = (*Memory)(nil)
	_ Admitter   = (*Memory)(nil)
	_ Subscriber = (*Memory)(nil)
	_ Pinner     = (*Memory)(nil)
	_ Capped     = (*Memory)(nil)
	_ Expirer    = (*Memory)(nil)
)
