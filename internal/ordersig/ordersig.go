// Package ordersig lets the requester pipeline ask whether a
// zeroex.SignedOrder's signature has been checked good already, without
// checking it: zeroex sets Checked in its init. It is no part of zeroex's
// API.
package ordersig

// Checked reports whether order (a *zeroex.SignedOrder) remembers a good
// signature, so that VerifySignature would return nil at the cost of a
// comparison. False says nothing: the signature may be good or bad.
var Checked func(order any) bool
