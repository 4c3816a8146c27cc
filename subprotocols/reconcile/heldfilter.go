package reconcile

import (
	"math/rand/v2"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/riblt"
)

// A list shows the requester every hash of the provider's set, also the
// many it holds: with a requester that is ahead of its provider, or that
// reconciles with several providers holding much the same orders, most of
// a list (and of the symbols it replaces, which cost the orders only the
// requester holds as well) was hashes the requester already had. In
// netsim's defaults that was a fifth of the bytes of the orders a node
// lacked. A list request may therefore carry a Bloom filter of the
// requester's set, 5 bytes a hash (6.7 in base64, against 43 for a listed
// hash and 77 for a difference in symbols): the provider lists only the
// hashes the filter does not hold.
//
// A false positive would hide an order of the provider's from the sync,
// and let it count as in sync though the requester lacks that order. At
// 40 bits a hash a false positive comes about once in 220 million hashes
// the requester lacks. At 16 bits (1 in 2 200) single syncs of a few
// thousand orders missed one every few runs, and counting a filtered sync
// in sync only when it delivered orders failed the syncs whose orders
// another provider had delivered.

// Held filter parameters: bits per item and bit positions per item, which
// minimise false positives for that size (40·ln 2 ≈ 28).
const (
	heldFilterBitsPerItem = 40
	heldFilterPositions   = 28
)

// Wire bounds of a held filter.
const (
	// MaxHeldFilter is the largest held filter a request may carry, in
	// bytes: 874 kB of base64, within a request's 1 MiB. A larger set
	// asks for the whole list.
	MaxHeldFilter = MaxSymbols * heldFilterBitsPerItem / 8
	// MaxHeldFilterPositions bounds the bit positions per item a request
	// may ask the provider to test.
	MaxHeldFilterPositions = 32
)

// heldFilter is a Bloom filter of hashes: bit positions (h1 + i·h2) mod m
// for i < positions, with h1 and h2 the item's salted hashes under salt
// and its complement (h2 made odd), m the filter's bits; bit j is bit
// j%8, least significant first, of byte j/8.
type heldFilter struct {
	bits      []byte
	positions int
	salt      uint64
}

// newHeldFilter is a filter of hashes under a fresh salt, or nil when
// there are none or too many for MaxHeldFilter.
func newHeldFilter(hashes []common.Hash, skip map[common.Hash]bool) *heldFilter {
	n := len(hashes) - len(skip)
	size := (n*heldFilterBitsPerItem + 7) / 8
	if n <= 0 || size > MaxHeldFilter {
		return nil
	}
	f := &heldFilter{bits: make([]byte, size), positions: heldFilterPositions, salt: rand.Uint64()}
	for i := range hashes {
		if skip[hashes[i]] {
			continue
		}
		x := riblt.Item(hashes[i])
		f.walk(&x, func(byteIndex int, mask byte) bool {
			f.bits[byteIndex] |= mask
			return true
		})
	}
	return f
}

// walk calls visit with each of x's bit positions, as a byte index and a
// mask, until visit returns false; it reports whether every call returned
// true.
func (f *heldFilter) walk(x *riblt.Item, visit func(byteIndex int, mask byte) bool) bool {
	m := uint64(len(f.bits)) * 8
	h1 := riblt.SaltedHash(x, f.salt)
	h2 := riblt.SaltedHash(x, ^f.salt) | 1
	for i := 0; i < f.positions; i++ {
		j := (h1 + uint64(i)*h2) % m
		if !visit(int(j/8), 1<<(j%8)) {
			return false
		}
	}
	return true
}

// holds reports whether every bit of x is set: x is in the filtered set,
// or a false positive.
func (f *heldFilter) holds(x *riblt.Item) bool {
	return f.walk(x, func(byteIndex int, mask byte) bool { return f.bits[byteIndex]&mask != 0 })
}
