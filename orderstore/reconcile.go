package orderstore

import (
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

// ReconcileSnapshot is what the reconcile subprotocol needs of a store's
// orders of one Class, as of one version of the store: their count, their
// set digest and their first coded symbols (see internal/riblt).
type ReconcileSnapshot struct {
	// Version is the store's Version when the snapshot was taken.
	Version uint64
	// Count is how many orders of the class the store held.
	Count int
	// Digest is the set digest of their hashes.
	Digest riblt.Digest
	// Symbols are their first coded symbols, as many as asked for, but no
	// more than IndexSymbols.
	Symbols []riblt.Symbol
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

// ReconcileIndex keeps, per Class, the count, digest and first coded
// symbols of a set of orders current as orders are added and removed, each
// change in O(log IndexSymbols), plus a version that every change moves. A
// store calls Add and Remove as its own set changes, under its own lock:
// ReconcileIndex is not safe for concurrent use.
type ReconcileIndex struct {
	symbols int
	version uint64
	classes map[Class]*riblt.Index
}

// NewReconcileIndex returns the index of an empty store, keeping symbols
// coded symbols per class (riblt.DefaultIndexSymbols when symbols < 1).
func NewReconcileIndex(symbols int) *ReconcileIndex {
	if symbols < 1 {
		symbols = riblt.DefaultIndexSymbols
	}
	return &ReconcileIndex{symbols: symbols, classes: make(map[Class]*riblt.Index)}
}

// OrderLanes is what ReconcileIndex needs of an order beyond its hash: the
// digest lanes of the hash, the costly part, which a store computes
// outside its lock (LanesOf).
type OrderLanes = riblt.ItemLanes

// LanesOf computes the digest lanes of an order hash.
func LanesOf(hash common.Hash) OrderLanes {
	x := riblt.Item(hash)
	return riblt.LanesOf(&x)
}

// Add records that the store now holds o, whose hash and lanes are given.
// The caller makes sure it did not hold it before.
func (ix *ReconcileIndex) Add(hash common.Hash, o *zeroex.SignedOrder, lanes *OrderLanes) {
	ix.version++
	class, ok := ClassOf(o)
	if !ok {
		return
	}
	c := ix.classes[class]
	if c == nil {
		c = riblt.NewIndex(ix.symbols)
		ix.classes[class] = c
	}
	x := riblt.Item(hash)
	c.Add(&x, lanes)
}

// Remove records that the store no longer holds o, which it held.
func (ix *ReconcileIndex) Remove(hash common.Hash, o *zeroex.SignedOrder, lanes *OrderLanes) {
	ix.version++
	class, ok := ClassOf(o)
	if !ok {
		return
	}
	c := ix.classes[class]
	if c == nil {
		return
	}
	x := riblt.Item(hash)
	c.Remove(&x, lanes)
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
	snap := ReconcileSnapshot{Version: ix.version, IndexSymbols: ix.symbols}
	c := ix.classes[class]
	if c == nil {
		snap.Symbols = make([]riblt.Symbol, min(max(symbols, 0), ix.symbols))
		return snap
	}
	snap.Count = c.Len()
	snap.Digest = c.Digest()
	snap.Symbols = c.AppendPrefix(make([]riblt.Symbol, 0, min(max(symbols, 0), ix.symbols)), max(symbols, 0))
	return snap
}
