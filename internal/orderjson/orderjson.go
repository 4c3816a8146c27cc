// Package orderjson hands the SQL stores zeroex's cached JSON encoding of
// an order without the copy that AppendJSON makes, which zeroex keeps out
// of its public API: the bytes are the order's own and must not be
// changed. zeroex sets Cached when it is initialised, which Go does before
// any package that imports zeroex runs.
package orderjson

// Cached returns the JSON encoding cached on order, a *zeroex.SignedOrder
// (the bytes it arrived as, when they were exactly its encoding, or those
// of an earlier MarshalJSON or AppendJSON), or nil. The caller only reads
// them: the cache is shared with every later encoding of the order.
var Cached func(order any) []byte
