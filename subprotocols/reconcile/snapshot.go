package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// errScanBudget means the provider's set could not be read within the scan
// budget: the provider pages instead.
var errScanBudget = errors.New("reconcile: the store is too large to scan within the budget")

// snapshot is the provider's set for one filter as of one moment: what
// every requester of that filter is served from until the store changes.
// Its fields other than enc and hashes never change once it is cached.
type snapshot struct {
	id      uint64
	filter  string // the filter's JSON, "" for none
	version uint64 // the store's version, when it has one
	taken   time.Time
	count   int
	digest  riblt.Digest
	prefix  []riblt.Symbol // from the store's index; nil when scanned

	class   *orderstore.Class // for extending an indexed snapshot; nil: every order
	indexed bool

	mu  sync.Mutex
	enc *riblt.Encoder // over the set's hashes, built when first needed
	bad bool           // the hashes could no longer be read as they were
}

// snapshots is the provider's cache of snapshots: a few, shared by all
// requesters, so nothing in it grows with them.
type snapshots struct {
	s      *Subprotocol
	mu     sync.Mutex
	nextID uint64
	list   []*snapshot // most recently used last
}

// cacheSize is how many snapshots a provider keeps (it drops the one used
// longest ago); reuseFor is how long a snapshot answers new syncs after the
// store moved on, so that a busy store is not snapshotted for every
// requester.
const (
	cacheSize = 8
	reuseFor  = time.Second
)

// byID returns the cached snapshot id, if it is still there, and marks it
// used: the cache drops the snapshot used longest ago, so that one a sync
// is still reading from outlives the snapshots that newer syncs took while
// the store was moving (dropped, its sync starts over, and after a few
// such restarts pages the provider's whole book).
func (c *snapshots) byID(id uint64) *snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, sn := range c.list {
		if sn.id == id {
			c.list = append(append(c.list[:i], c.list[i+1:]...), sn)
			return sn
		}
	}
	return nil
}

// firstSnapshotID is where a process's snapshot ids start: at a random
// point from 1 to 2^32, so that a requester that resumes a sync with a
// restarted provider names no snapshot of the new process by an id of the
// old one (but about once in 2^32 / the snapshots it took since). From 1,
// a fetch by positions would have drawn other orders than the ones asked
// for, which the requester drops and scores. Below 2^52 the ids' digits
// went into every sketch, list and fetch: 8 % more bytes a node idles on.
func firstSnapshotID() uint64 { return uint64(rand.Uint32()) + 1 }

// current returns a snapshot of the set that filter selects, cached when
// the store has not changed since (or changed less than reuseFor ago).
//
// With scan set, the snapshot is read from the orders themselves even when
// the store has an index, so that it can be extended however the store
// changes.
func (c *snapshots) current(ctx context.Context, filter *orderfilter.Filter, scan bool) (*snapshot, error) {
	key, err := filterKey(filter)
	if err != nil {
		return nil, err
	}
	version, versioned := c.version()
	now := c.s.cfg.now()
	c.mu.Lock()
	for i := len(c.list) - 1; i >= 0; i-- {
		sn := c.list[i]
		if sn.filter != key || (scan && sn.indexed) {
			continue
		}
		// An indexed snapshot costs a copy of its prefix: take a new one
		// for every version. A scanned one costs a scan: reuse it a while.
		if (versioned && sn.version == version) || (!sn.indexed && now.Sub(sn.taken) < reuseFor) {
			c.list = append(append(c.list[:i], c.list[i+1:]...), sn)
			c.mu.Unlock()
			return sn, nil
		}
	}
	c.mu.Unlock()

	sn, err := c.take(ctx, filter, key, scan)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	sn.id = c.nextID
	if len(c.list) == cacheSize {
		c.list = append(c.list[:0], c.list[1:]...)
	}
	c.list = append(c.list, sn)
	return sn, nil
}

func (c *snapshots) version() (uint64, bool) {
	if v, ok := c.s.store.(orderstore.Versioned); ok {
		return v.Version(), true
	}
	return 0, false
}

// take snapshots the set: from the store's index when it has one of the
// set (a class of orders, or all of them), by scanning otherwise.
func (c *snapshots) take(ctx context.Context, filter *orderfilter.Filter, key string, scan bool) (*snapshot, error) {
	now := c.s.cfg.now()
	if !scan {
		if ix, ok := fromIndex(c.s.store, filter, riblt.DefaultIndexSymbols); ok {
			return &snapshot{filter: key, version: ix.version, taken: now, count: ix.count,
				digest: ix.digest, prefix: ix.prefix, class: ix.class, indexed: true}, nil
		}
	}
	version, _ := c.version()
	// A costly filter runs on every stored order: it takes one of the
	// process's scan slots, as a version 1 page does.
	release, err := c.s.pager.HoldScanSlot(ctx, filter, c.s.cfg.maxScanTime)
	if err != nil {
		return nil, err
	}
	hashes, err := c.s.scanHashes(ctx, filter, nil)
	release()
	if err != nil {
		return nil, err
	}
	sn := &snapshot{filter: key, version: version, taken: now, count: len(hashes)}
	for i := range hashes {
		sn.digest.AddItem(&hashes[i])
	}
	sn.enc = riblt.NewEncoder(hashes)
	return sn, nil
}

// symbols returns symbols [from, to) of the snapshot, or false when an
// indexed snapshot can no longer be extended past its prefix because the
// store has changed since: the requester must start over from a new one.
func (sn *snapshot) symbols(ctx context.Context, s *Subprotocol, from, to int) ([]riblt.Symbol, bool, error) {
	if from < 0 || to < from || to > MaxSymbols {
		// The callers bound both; a range past them is a bug, not a
		// reason to panic on a peer's request.
		return nil, false, fmt.Errorf("reconcile: symbols [%d, %d) out of range", from, to)
	}
	if to <= len(sn.prefix) {
		return sn.prefix[from:to], true, nil
	}
	sn.mu.Lock()
	defer sn.mu.Unlock()
	enc, err := sn.encoderLocked(ctx, s)
	if err != nil || enc == nil {
		return nil, false, err
	}
	out := enc.Symbols(from, to)
	return append([]riblt.Symbol(nil), out...), true, nil
}

// encoder returns the Encoder over the snapshot's hashes (ascending),
// reading them first for an indexed snapshot, or nil when they can no
// longer be read as they were. Its items never change: they may be read
// without the lock.
func (sn *snapshot) encoder(ctx context.Context, s *Subprotocol) (*riblt.Encoder, error) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.encoderLocked(ctx, s)
}

func (sn *snapshot) encoderLocked(ctx context.Context, s *Subprotocol) (*riblt.Encoder, error) {
	if sn.enc == nil && !sn.bad {
		if err := sn.readHashes(ctx, s); err != nil {
			return nil, err
		}
	}
	return sn.enc, nil
}

// readHashes reads an indexed snapshot's hashes from the store, if the
// store is still at the snapshot's version before and after.
func (sn *snapshot) readHashes(ctx context.Context, s *Subprotocol) error {
	v, ok := s.store.(orderstore.Versioned)
	if !ok || v.Version() != sn.version {
		sn.bad = true
		return nil
	}
	// No filter runs on these orders (the class is the index's): the scan
	// costs a read per order, and is bounded by the order count alone.
	// Under a time bound, a provider busy on a loaded machine ran out of
	// time here and paged its whole book instead, which reads every order
	// too and sends each one, mostly copies of what the requester's other
	// syncs were fetching.
	hashes, err := s.scan(ctx, nil, sn.class, s.cfg.maxScan, ownScanTime)
	if err != nil {
		return err
	}
	if v.Version() != sn.version || len(hashes) != sn.count {
		sn.bad = true
		return nil
	}
	sn.enc = riblt.NewEncoder(hashes)
	return nil
}

// scanHashes reads the hashes of the stored orders that match filter (or,
// with class set, that are of that class), within the scan budget.
func (s *Subprotocol) scanHashes(ctx context.Context, filter *orderfilter.Filter, class *orderstore.Class) ([]riblt.Item, error) {
	return s.scan(ctx, filter, class, s.cfg.maxScan, s.cfg.maxScanTime)
}

// scan is scanHashes within the given budget.
func (s *Subprotocol) scan(ctx context.Context, filter *orderfilter.Filter, class *orderstore.Class, maxScan int, maxTime time.Duration) ([]riblt.Item, error) {
	const batch = 1000
	deadline := s.cfg.now().Add(maxTime)
	var out []riblt.Item
	var after common.Hash
	scanned := 0
	// A set leaves out what the Service counts as expired (within its
	// margin), as pages and fetches do, so that expiry makes no lasting
	// difference between peers.
	expiry := s.pager.Expiry()
	for {
		orders, err := s.store.OrdersAfter(ctx, after, batch)
		if err != nil {
			return nil, fmt.Errorf("reconcile: reading the store: %w", err)
		}
		cutoff := expiry.Cutoff() // a clock read per batch, not per order
		for _, o := range orders {
			h, err := o.ComputeOrderHash()
			if err != nil {
				return nil, fmt.Errorf("reconcile: stored order after %s: %w", after, err)
			}
			after = h
			if orderstore.ExpirationOf(o) > cutoff && wanted(o, filter, class) {
				out = append(out, riblt.Item(h))
			}
		}
		scanned += len(orders)
		if len(orders) < batch {
			return out, nil
		}
		if scanned >= maxScan || s.cfg.now().After(deadline) {
			return nil, fmt.Errorf("%w (%d orders scanned)", errScanBudget, scanned)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

func wanted(o *zeroex.SignedOrder, filter *orderfilter.Filter, class *orderstore.Class) bool {
	if class != nil {
		c, ok := orderstore.ClassOf(o)
		return ok && c == *class
	}
	if filter == nil {
		return true
	}
	ok, err := filter.MatchOrder(o)
	return ok && err == nil
}

// filterKey is the cache key of a filter: its wire JSON.
func filterKey(filter *orderfilter.Filter) (string, error) {
	if filter == nil {
		return "", nil
	}
	b, err := filter.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("reconcile: filter: %w", err)
	}
	return string(b), nil
}
