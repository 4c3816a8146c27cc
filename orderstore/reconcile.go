package orderstore

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/zeroex"
)

// Versioned is implemented by stores that count their changes. A provider
// caches what it computed over a store per (filter, version), so Version
// must change whenever an order is added or removed, and may change at
// other times.
type Versioned interface {
	Version() uint64
}

// Class is the chain ID and exchange address of orders: a filter whose
// custom schema accepts everything (orderfilter's IsTrivial) matches
// exactly the well-formed orders of one Class.
type Class struct {
	ChainID  int64
	Exchange common.Address
}

// ClassOf returns o's Class, and false when o's chain ID does not fit an
// int64 (no filter matches such an order).
func ClassOf(o *zeroex.SignedOrder) (Class, bool) {
	if o == nil || o.ChainID == nil || !o.ChainID.IsInt64() {
		return Class{}, false
	}
	return Class{ChainID: o.ChainID.Int64(), Exchange: o.ExchangeAddress}, true
}

// Symbol is one coded symbol of a set of order hashes (the reconcile
// subprotocol's rateless code, docs/protocol.md): the XOR of the hashes
// mapped to it, the XOR of their checksums, and how many there are.
type Symbol struct {
	Sum   [32]byte
	Check uint64
	Count int64
}

// Digest is the set digest of order hashes that a reconciliation compares
// before it trusts a decoded difference. Its zero value is the empty set.
// It is opaque: ReconcileIndex computes it, and its binary form is what
// goes on the wire.
type Digest struct{ d riblt.Digest }

// Count is how many hashes the digest holds.
func (d Digest) Count() int64 { return d.d.Count() }

// AppendBinary appends the digest's wire form (without the count, which
// travels apart) to b.
func (d Digest) AppendBinary(b []byte) ([]byte, error) { return riblt.AppendDigest(b, &d.d), nil }

// ParseDigest decodes a digest of count hashes from its wire form.
func ParseDigest(b []byte, count int64) (Digest, error) {
	d, err := riblt.ParseDigest(b, count)
	if err != nil {
		return Digest{}, fmt.Errorf("orderstore: %w", err)
	}
	return Digest{d}, nil
}

// ReconcileSnapshot is what the reconcile subprotocol needs of a store's
// orders of one Class (or of all of them), as of one version of the store:
// their count, their set digest and their first coded symbols.
type ReconcileSnapshot struct {
	// Version is the store's Version when the snapshot was taken.
	Version uint64
	// Count is how many orders of the class the store held.
	Count int
	// Digest is the set digest of their hashes.
	Digest Digest
	// Symbols are their first coded symbols, as many as asked for, but no
	// more than IndexSymbols.
	Symbols []Symbol
	// IndexSymbols is how many coded symbols the store keeps; later ones
	// the caller computes from the hashes (by scanning the store).
	IndexSymbols int
}

// Reconciler is implemented by stores that keep the reconciliation index
// of their orders current as orders are added and removed (Memory does, and
// ReconcileIndex does the bookkeeping for other stores). Without it, the
// reconcile subprotocol scans the store under the provider's scan budget.
type Reconciler interface {
	Versioned
	// ReconcileSnapshot returns the snapshot of the orders of class, with
	// at most symbols coded symbols, all as of one version.
	ReconcileSnapshot(class Class, symbols int) ReconcileSnapshot
}

// WholeReconciler is a Reconciler that also snapshots every order it
// holds, whatever its class: the set a peer without a filter reconciles.
// Without it, such a reconciliation scans the store.
type WholeReconciler interface {
	Reconciler
	// ReconcileSnapshotAll returns the snapshot of every stored order, with
	// at most symbols coded symbols, as of one version.
	ReconcileSnapshotAll(symbols int) ReconcileSnapshot
}

// ReconcileIndex keeps, per Class and for all orders together, the count,
// digest and first coded symbols of a set of orders current as orders are
// added and removed, each change in O(log IndexSymbols), plus a version
// that every change moves. A store calls Add and Remove as its own set
// changes, under its own lock: ReconcileIndex is not safe for concurrent
// use.
type ReconcileIndex struct {
	symbols int
	version uint64
	classes map[Class]*riblt.Index
	// all is every order, classed or not; nil while the orders are all of
	// one class (or none), whose index is then the same set: a node of one
	// chain and exchange updates one index per change instead of two.
	all *riblt.Index
}

// NewReconcileIndex returns the index of an empty store, keeping symbols
// coded symbols per class (DefaultIndexSymbols when symbols < 1).
func NewReconcileIndex(symbols int) *ReconcileIndex {
	if symbols < 1 {
		symbols = DefaultIndexSymbols
	}
	symbols = min(symbols, riblt.MaxIndex)
	return &ReconcileIndex{symbols: symbols, classes: make(map[Class]*riblt.Index)}
}

// DefaultIndexSymbols is how many coded symbols a ReconcileIndex keeps per
// class by default: enough to decode about 5 000 differences from the index
// alone, for 384 KiB per class.
const DefaultIndexSymbols = riblt.DefaultIndexSymbols

// OrderLanes is what ReconcileIndex needs of an order beyond its hash: its
// share of the set digest, the costly part (four SHA-256 blocks), which a
// store computes outside its lock with LanesOf.
type OrderLanes struct{ l riblt.ItemLanes }

// LanesOf computes the digest lanes of an order hash.
func LanesOf(hash common.Hash) OrderLanes {
	x := riblt.Item(hash)
	return OrderLanes{riblt.LanesOf(&x)}
}

// Add records that the store now holds o, whose hash and lanes are given.
// The caller makes sure it did not hold it before.
func (ix *ReconcileIndex) Add(hash common.Hash, o *zeroex.SignedOrder, lanes *OrderLanes) {
	ix.version++
	x := riblt.Item(hash)
	class, ok := ClassOf(o)
	c := ix.classes[class]
	if ix.all == nil && (!ok || c == nil && len(ix.classes) > 0) {
		ix.splitAll()
	}
	if ix.all != nil {
		ix.all.Add(&x, &lanes.l)
	}
	if !ok {
		return
	}
	if c == nil {
		c = riblt.NewIndex(ix.symbols)
		ix.classes[class] = c
	}
	c.Add(&x, &lanes.l)
}

// splitAll gives every order an index of its own, apart from the one class
// that held them all until now.
func (ix *ReconcileIndex) splitAll() {
	ix.all = riblt.NewIndex(ix.symbols)
	for _, c := range ix.classes {
		ix.all.Merge(c)
	}
}

// Remove records that the store no longer holds o, which it held.
func (ix *ReconcileIndex) Remove(hash common.Hash, o *zeroex.SignedOrder, lanes *OrderLanes) {
	ix.version++
	x := riblt.Item(hash)
	if ix.all != nil {
		ix.all.Remove(&x, &lanes.l)
	}
	class, ok := ClassOf(o)
	if !ok {
		return
	}
	c := ix.classes[class]
	if c == nil {
		return
	}
	c.Remove(&x, &lanes.l)
	if c.Len() == 0 {
		delete(ix.classes, class)
	}
}

// Touch moves the version without changing the set, for a change the
// index does not track.
func (ix *ReconcileIndex) Touch() { ix.version++ }

// Version returns the index's version.
func (ix *ReconcileIndex) Version() uint64 { return ix.version }

// Snapshot returns the class's snapshot with at most symbols coded
// symbols.
func (ix *ReconcileIndex) Snapshot(class Class, symbols int) ReconcileSnapshot {
	return ix.snapshot(ix.classes[class], symbols)
}

// SnapshotAll returns the snapshot of every order with at most symbols
// coded symbols.
func (ix *ReconcileIndex) SnapshotAll(symbols int) ReconcileSnapshot {
	all := ix.all
	if all == nil {
		for _, c := range ix.classes {
			all = c // the only one
		}
	}
	return ix.snapshot(all, symbols)
}

func (ix *ReconcileIndex) snapshot(c *riblt.Index, symbols int) ReconcileSnapshot {
	n := min(max(symbols, 0), ix.symbols)
	snap := ReconcileSnapshot{Version: ix.version, IndexSymbols: ix.symbols, Symbols: make([]Symbol, n)}
	if c == nil {
		return snap
	}
	snap.Count = c.Len()
	snap.Digest = Digest{c.Digest()}
	for i, s := range c.AppendPrefix(make([]riblt.Symbol, 0, n), n) {
		snap.Symbols[i] = Symbol(s)
	}
	return snap
}
