package orderstore

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/btree"

	"github.com/ordersync/ordersync/zeroex"
)

// The pruner's waits: never shorter than minPrunerWait, so that a clock a
// test holds still just before an expiry cannot make it spin, and never
// longer than maxPrunerWait, so that a clock that jumps (a laptop waking)
// is noticed.
const (
	minPrunerWait = 10 * time.Millisecond
	maxPrunerWait = time.Minute
)

// expiryItem is a stored order in the expiry-ordered index: by expiration,
// then by hash.
type expiryItem struct {
	exp  int64
	item memoryItem
}

func lessByExpiry(a, b expiryItem) bool {
	if a.exp != b.exp {
		return a.exp < b.exp
	}
	if a.item.prefix != b.item.prefix {
		return a.item.prefix < b.item.prefix
	}
	ha, hb := a.item.hash(), b.item.hash()
	return bytes.Compare(ha[8:], hb[8:]) < 0
}

// memoryLife is what a Memory with expiry or a capacity keeps beside its
// hash-ordered tree: its orders by expiration, the pinned ones apart, so
// that the next to expire and the last to expire among those it may evict
// are each one step away. Its fields but next are guarded by Memory.mu.
type memoryLife struct {
	unpinned, pinned *btree.BTreeG[expiryItem]
	// maxExpiration is the latest expiration of an order the store
	// accepts unpinned; math.MaxInt64 while it accepts any.
	maxExpiration int64
	// next is the earliest expiration held, math.MaxInt64 when none: a
	// reader compares it with the clock without the lock.
	next atomic.Int64

	// The pruner: wake tells it of an earlier next, stop ends it, done
	// says it ended.
	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newMemoryLife() *memoryLife {
	l := &memoryLife{
		unpinned:      btree.NewG(btreeDegree, lessByExpiry),
		pinned:        btree.NewG(btreeDegree, lessByExpiry),
		maxExpiration: math.MaxInt64,
	}
	l.next.Store(math.MaxInt64)
	return l
}

func keyOf(item memoryItem) expiryItem {
	return expiryItem{exp: ExpirationOf(item.order), item: item}
}

// forget drops item from the index.
func (l *memoryLife) forget(item memoryItem) {
	k := keyOf(item)
	if _, ok := l.pinned.Delete(k); !ok {
		l.unpinned.Delete(k)
	}
}

// pin makes item, held unpinned or pinned, pinned.
func (l *memoryLife) pin(item memoryItem) {
	k := keyOf(item)
	if _, ok := l.unpinned.Delete(k); ok {
		l.pinned.ReplaceOrInsert(k)
	}
}

// isPinned reports whether item is held pinned.
func (l *memoryLife) isPinned(item memoryItem) bool {
	return l.pinned.Has(keyOf(item))
}

// earliest is the held order that expires first, pinned or not.
func (l *memoryLife) earliest() (expiryItem, bool) {
	a, okA := l.unpinned.Min()
	b, okB := l.pinned.Min()
	switch {
	case okA && okB:
		if lessByExpiry(b, a) {
			return b, true
		}
		return a, true
	case okB:
		return b, true
	}
	return a, okA
}

// expiry is the rule of the store's clock and margin.
func (m *Memory) expiry() Expiry { return Expiry{Now: m.cfg.now, Margin: m.cfg.margin} }

// lifeAdmit is admit for a store with expiry or a capacity: it fills adm
// and returns how many orders were new. The caller holds the write lock.
func (m *Memory) lifeAdmit(items []memoryItem, lanes []OrderLanes, pinned bool, adm []Admission) (int, error) {
	l := m.life
	cutoff := int64(math.MinInt64)
	if m.cfg.expiry {
		cutoff = m.expiry().Cutoff()
		m.expireLocked(cutoff)
	}
	if err := m.checkRoom(items, pinned, cutoff); err != nil {
		m.afterLeaving() // for what expired
		return 0, err
	}
	for i, item := range items {
		k := keyOf(item)
		if k.exp <= cutoff {
			adm[i] = RefusedExpired
			continue
		}
		if !pinned && k.exp > l.maxExpiration {
			adm[i] = RefusedMaxExpiration
			if _, held := m.find(ptrHash(item)); held {
				adm[i] = AlreadyHeld
			}
			continue
		}
		if old, replaced := m.tree.ReplaceOrInsert(item); replaced {
			m.tree.ReplaceOrInsert(old)
			if pinned {
				l.pin(old)
			}
			adm[i] = AlreadyHeld
			continue
		}
		adm[i] = Admitted
		m.indexAdd(item, lanes, i)
		if pinned {
			l.pinned.ReplaceOrInsert(k)
		} else {
			l.unpinned.ReplaceOrInsert(k)
		}
	}
	m.evict(items, adm)
	added := 0
	for i, a := range adm {
		if a == Admitted {
			added++
			m.announce(ChangeAdded, items[i])
		}
	}
	m.afterLeaving()
	return added, nil
}

// ptrHash is item's hash, for find.
func ptrHash(item memoryItem) *common.Hash {
	h := item.hash()
	return &h
}

// checkRoom fails an add that the store cannot make room for because its
// pinned orders fill it. Orders expired by cutoff do not count. The caller
// holds the write lock.
func (m *Memory) checkRoom(items []memoryItem, pinned bool, cutoff int64) error {
	c := m.cfg.capacity
	if c == 0 {
		return nil
	}
	l := m.life
	if !pinned {
		if l.pinned.Len() < c {
			return nil
		}
		for _, item := range items {
			if _, held := m.find(ptrHash(item)); !held && ExpirationOf(item.order) > cutoff {
				return fmt.Errorf("%w: all %d orders it may hold are pinned", ErrFull, c)
			}
		}
		return nil
	}
	fresh := make(map[*zeroex.SignedOrder]struct{})
	seen := make(map[common.Hash]struct{})
	for _, item := range items {
		h := item.hash()
		if _, dup := seen[h]; dup || ExpirationOf(item.order) <= cutoff {
			continue
		}
		seen[h] = struct{}{}
		if old, held := m.find(&h); held && l.isPinned(old) {
			continue
		}
		fresh[item.order] = struct{}{}
	}
	if l.pinned.Len()+len(fresh) > c {
		return fmt.Errorf("%w: %d orders pinned and %d more to pin, capacity %d", ErrFull, l.pinned.Len(), len(fresh), c)
	}
	return nil
}

// evict makes the store hold no more than its capacity by dropping the
// unpinned orders that expire last, and lowers maxExpiration below them.
// An order of items (the add under way) that it drops was never stored as
// far as anyone else can tell: its admission becomes RefusedMaxExpiration
// and it is neither counted nor announced. The caller holds the write
// lock.
func (m *Memory) evict(items []memoryItem, adm []Admission) {
	c := m.cfg.capacity
	if c == 0 || m.tree.Len() <= c {
		return
	}
	l := m.life
	ofCall := make(map[*zeroex.SignedOrder]int)
	for i, a := range adm {
		if a == Admitted {
			ofCall[items[i].order] = i
		}
	}
	for m.tree.Len() > c {
		last, ok := l.unpinned.Max()
		if !ok {
			return // checkRoom keeps this from happening
		}
		if i, mine := ofCall[last.item.order]; mine {
			m.tree.Delete(last.item)
			l.unpinned.Delete(last)
			m.indexRemove(last.item, nil)
			adm[i] = RefusedMaxExpiration
		} else {
			m.drop(last.item, nil, ChangeEvicted)
		}
		l.maxExpiration = min(l.maxExpiration, last.exp-1)
	}
}

// afterLeaving updates the bookkeeping after orders left: a store with
// room again accepts any expiration, and the pruner learns of an earlier
// next expiry. The caller holds the write lock.
func (m *Memory) afterLeaving() {
	l := m.life
	if l == nil {
		return
	}
	if c := m.cfg.capacity; c > 0 && m.tree.Len() < c {
		l.maxExpiration = math.MaxInt64
	}
	next := int64(math.MaxInt64)
	if e, ok := l.earliest(); ok {
		next = e.exp
	}
	if old := l.next.Swap(next); next < old && l.wake != nil {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// expireLocked drops every order expired by cutoff and returns how many.
// The caller holds the write lock and calls afterLeaving.
func (m *Memory) expireLocked(cutoff int64) int {
	n := 0
	for {
		e, ok := m.life.earliest()
		if !ok || e.exp > cutoff {
			return n
		}
		m.drop(e.item, nil, ChangeExpired)
		n++
	}
}

// expireDue drops the orders expired by now, if there are any: every read
// calls it first, so that the store never returns an expired order,
// whenever the pruner last ran.
func (m *Memory) expireDue() {
	if !m.cfg.expiry {
		return
	}
	cutoff := m.expiry().Cutoff()
	if m.life.next.Load() > cutoff {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publish = m.feed.Active()
	m.expireLocked(cutoff)
	m.afterLeaving()
}

// startPruner starts the goroutine that drops orders as they expire, so
// that they leave (and the feed says so) even while nobody reads.
func (l *memoryLife) startPruner(m *Memory) {
	l.wake = make(chan struct{}, 1)
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go m.prune()
}

func (m *Memory) prune() {
	l := m.life
	defer close(l.done)
	timer := time.NewTimer(m.untilNextExpiry())
	defer timer.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.wake:
		case <-timer.C:
			m.expireDue()
		}
		timer.Reset(m.untilNextExpiry())
	}
}

// untilNextExpiry is how long the pruner waits for the next expiry.
func (m *Memory) untilNextExpiry() time.Duration {
	next := m.life.next.Load()
	if next == math.MaxInt64 {
		return maxPrunerWait
	}
	d := time.Unix(next, 0).Add(-m.cfg.margin).Sub(m.cfg.now())
	return min(max(d, minPrunerWait), maxPrunerWait)
}

// Close stops the store's pruner, if it runs one, and closes every
// subscription to its changes. The store stays usable: reads still drop
// expired orders first. It always returns nil.
func (m *Memory) Close() error {
	if l := m.life; l != nil && l.stop != nil {
		l.closeOnce.Do(func() { close(l.stop) })
		<-l.done
	}
	m.feed.Close()
	return nil
}

// Expiry returns the store's expiry rule, and false without WithExpiry
// (see Expirer).
func (m *Memory) Expiry() (Expiry, bool) { return m.expiry(), m.cfg.expiry }

// ExpireOrders drops the orders expired now and returns how many (see
// Expirer). Without WithExpiry it drops nothing.
func (m *Memory) ExpireOrders(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !m.cfg.expiry {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publish = m.feed.Active()
	n := m.expireLocked(m.expiry().Cutoff())
	m.afterLeaving()
	return n, nil
}

// Capacity is the most orders the store holds, 0 without WithCapacity.
func (m *Memory) Capacity() int { return m.cfg.capacity }

// MaxExpiration returns the latest expiration an unpinned order may have
// to be stored, and false while the store accepts any (see Capped).
func (m *Memory) MaxExpiration() (time.Time, bool) {
	m.expireDue()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.life == nil || m.life.maxExpiration == math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(m.life.maxExpiration, 0), true
}

// MemoryStats is what a Memory did and holds, for a node's metrics.
type MemoryStats struct {
	// Orders is how many orders it holds, Pinned how many of them are
	// pinned (counted only WithExpiry or WithCapacity).
	Orders, Pinned int
	// Capacity is the most orders it holds; 0 for no bound.
	Capacity int
	// MaxExpiration is the latest expiration it accepts unpinned; zero
	// while it accepts any.
	MaxExpiration time.Time
	// Expired, Evicted and Removed count the orders that left, by cause,
	// since NewMemory.
	Expired, Evicted, Removed uint64
	// FeedMissed counts the changes its subscribers missed, together.
	FeedMissed uint64
}

// Stats returns the store's counts. Each is read atomically; together
// they are near enough one moment for metrics.
func (m *Memory) Stats() MemoryStats {
	m.expireDue()
	m.mu.RLock()
	st := MemoryStats{Orders: m.tree.Len(), Capacity: m.cfg.capacity}
	if m.life != nil {
		st.Pinned = m.life.pinned.Len()
		if x := m.life.maxExpiration; x != math.MaxInt64 {
			st.MaxExpiration = time.Unix(x, 0)
		}
	}
	m.mu.RUnlock()
	st.Expired, st.Evicted, st.Removed = m.expired.Load(), m.evicted.Load(), m.removed.Load()
	st.FeedMissed = m.feed.Missed()
	return st
}
