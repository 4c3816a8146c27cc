package zeroex

import (
	"sync/atomic"
	"unsafe"

	"github.com/ordersync/ordersync/internal/ordersig"
)

// The requester pipeline reaches signatureChecked through ordersig: it is
// no part of zeroex's API.
func init() {
	ordersig.Checked = func(order any) bool {
		return order.(*SignedOrder).signatureChecked()
	}
}

// signatureChecked reports whether VerifySignature found s's signature
// good and remembers it (as VerifySignature itself compares: the same first
// byte is the same signature until ResetHash).
func (s *SignedOrder) signatureChecked() bool {
	sig := unsafe.Pointer(unsafe.SliceData(s.Signature))
	return sig != nil && atomic.LoadPointer(&s.verified) == sig
}
