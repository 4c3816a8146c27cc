// Package orderprefix hands internal/wire zeroex's decoder of one signed
// order where it lies inside a larger document (a page of orders), which
// zeroex keeps out of its public API: only the response decoder needs it.
// zeroex sets Decode when it is initialised, which Go does before any
// package that imports zeroex, internal/wire among them, runs.
package orderprefix

// Decode decodes the signed order whose JSON object begins data (after any
// whitespace) into order, a *zeroex.SignedOrder, exactly as its
// UnmarshalJSON decodes a whole document, and returns how many bytes of
// data it took, up to and including the object's closing brace. On error
// the order is left unchanged.
var Decode func(order any, data []byte) (int, error)
