// Package orderjson lets zeroex's decoder keep the JSON an order arrived as
// only in a program that will write it, and hands the SQL stores that JSON
// without the copy AppendJSON makes. zeroex keeps both out of its public
// API. zeroex sets Cached when it is initialised, which Go does before any
// package that imports zeroex runs.
package orderjson

import (
	"sync"
	"sync/atomic"
)

// Cached returns the JSON encoding cached on order, a *zeroex.SignedOrder
// (the bytes it arrived as, when they were exactly its encoding, or those
// of an earlier MarshalJSON or AppendJSON), or nil. The caller only reads
// them: the cache is shared with every later encoding of the order.
var Cached func(order any) []byte

// wanted counts the open stores that write orders' JSON (Want).
var wanted atomic.Int32

// Want has zeroex's decoder keep the JSON of each order that arrived in
// exactly its encoding, until release is called: an SQL store calls it when
// it opens, and release when it closes. The copy costs about a kilobyte of
// allocation per order decoded; for a program that only keeps orders in
// memory it is garbage (orderstore.Memory drops it), and the collections it
// brings about cost more than encoding the few orders such a program
// writes, so nobody pays for it without a store that wants it.
func Want() (release func()) {
	wanted.Add(1)
	var once sync.Once
	return func() { once.Do(func() { wanted.Add(-1) }) }
}

// Wanted reports whether an open store wants the JSON orders arrived as.
func Wanted() bool { return wanted.Load() > 0 }
