// Package zeroex is the signed 0x v3 order: its JSON form, its EIP-712 hash
// and its signatures, as the 0x Mesh network exchanges them.
//
// An order's hash and its JSON encoding are computed once and cached on the
// order, because a node hashes, encodes and checks the same order many times.
// Methods that only read an order (ComputeOrderHash, MarshalJSON, AppendJSON,
// VerifySignature), and ForgetJSON, which drops a cache, are safe to call from many goroutines at once. Anything
// that changes a field must be followed by ResetHash before the order is used
// again.
//
// UnmarshalJSON is strict, because orders come from peers: it accepts only
// a JSON object with exactly the 17 fields of the network's form (the
// module's docs/protocol.md, "Signed orders"), each well formed, and
// otherwise returns an error that names the field and the problem, such as
//
//	zeroex: field "makerFee": not a decimal number: "12a"
//
// VerifySignature checks EIP712 and EthSign signatures; other signature
// types need a chain and are reported as ErrUnverifiableSignature, never as
// valid. VerifySignatures does the same for a batch on all cores.
package zeroex

import (
	"math/big"
	"sync/atomic"
	"unsafe"

	"github.com/ethereum/go-ethereum/common"
)

// Order is an unsigned 0x v3 order.
//
// Treat an Order as immutable once its hash or JSON has been asked for: both
// are cached. After changing a field, call ResetHash.
type Order struct {
	ChainID               *big.Int
	ExchangeAddress       common.Address
	MakerAddress          common.Address
	MakerAssetData        []byte
	MakerFeeAssetData     []byte
	MakerAssetAmount      *big.Int
	MakerFee              *big.Int
	TakerAddress          common.Address
	TakerAssetData        []byte
	TakerFeeAssetData     []byte
	TakerAssetAmount      *big.Int
	TakerFee              *big.Int
	SenderAddress         common.Address
	FeeRecipientAddress   common.Address
	ExpirationTimeSeconds *big.Int
	Salt                  *big.Int

	// hash caches the order hash (*common.Hash). It is a plain pointer,
	// read and written with sync/atomic functions, so that copying an Order
	// by value stays go vet-clean; the pointee is never modified.
	hash unsafe.Pointer
}

// SignedOrder is an Order with its maker's signature.
type SignedOrder struct {
	Order
	Signature []byte

	// json caches the JSON encoding (*[]byte), like Order.hash. It lives
	// here, not on Order, because it covers the signature too.
	json unsafe.Pointer
	// verified is the first byte of the Signature that VerifySignature
	// found good, or nil: a requester checks a page's signatures ahead of
	// its turn (while the page before is stored) and again in turn, and
	// the second check must cost nothing.
	verified unsafe.Pointer
}

// ResetHash drops the cached order hash. Call it after changing any field
// of the order.
func (o *Order) ResetHash() {
	atomic.StorePointer(&o.hash, nil)
}

// ResetHash drops every cache of the signed order: its order hash and its
// JSON encoding. Call it after changing any field, the signature included.
func (s *SignedOrder) ResetHash() {
	s.Order.ResetHash()
	atomic.StorePointer(&s.json, nil)
	atomic.StorePointer(&s.verified, nil)
}

// ForgetJSON drops the order's cached JSON encoding (which MarshalJSON,
// AppendJSON or the decoder, for an order that arrived in exactly that
// form, keeps on it) and nothing else. A holder of many orders that seldom
// encodes them calls it to hold about a kilobyte less per order; encoding
// the order again gives the same bytes.
func (s *SignedOrder) ForgetJSON() {
	atomic.StorePointer(&s.json, nil)
}

// cachedHash returns the cached order hash, if any.
func (o *Order) cachedHash() (common.Hash, bool) {
	p := (*common.Hash)(atomic.LoadPointer(&o.hash))
	if p == nil {
		return common.Hash{}, false
	}
	return *p, true
}

// cachedJSON returns the cached JSON encoding, if any. Callers must not
// modify it.
func (s *SignedOrder) cachedJSON() []byte {
	p := (*[]byte)(atomic.LoadPointer(&s.json))
	if p == nil {
		return nil
	}
	return *p
}
