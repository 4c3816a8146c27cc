package riblt

import (
	"encoding/binary"
	"math"
)

// Item is one element of a set: an order hash.
type Item = [32]byte

// Salts of the two item hashes: they only need to differ.
const (
	checksumSalt = 0x6f72646572737963 // "ordersyc"
	seedSalt     = 0x72696c626c746d70 // "rilbltmp"
)

// mix is the finaliser of SplitMix64: a bijection of 64-bit words whose
// output bits each depend on every input bit.
func mix(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// hash64 folds an item's four words into one through mix, starting from
// salt.
func hash64(x *Item, salt uint64) uint64 {
	h := salt
	for i := 0; i < 32; i += 8 {
		h = mix(h ^ binary.LittleEndian.Uint64(x[i:]))
	}
	return h
}

// SaltedHash is the item's 64-bit hash under salt, the function the
// checksum and the mapping use with salts of their own: for other uses of
// a set's items (reconcile's filter of held hashes) that need it under a
// salt chosen per use.
func SaltedHash(x *Item, salt uint64) uint64 { return hash64(x, salt) }

// Checksum is the checksum of an item that a coded symbol sums: a symbol
// with count ±1 whose checksum is that of its sum holds exactly one item.
func Checksum(x *Item) uint64 { return hash64(x, checksumSalt) }

// MaxIndex bounds symbol indices: an item maps to no symbol at or beyond
// it. It keeps the mapping's arithmetic inside 64 bits.
const MaxIndex = 1 << 30

// never is the next index of a mapping that has run past MaxIndex.
const never = math.MaxUint64

// mapping walks the symbol indices an item maps to: index 0, then gaps
// drawn so that index i is hit with probability about 1/(1+i/2). It is
// all integer arithmetic, so that every peer computes the same indices.
type mapping struct {
	state uint64 // the item's SplitMix64 generator
	next  uint64 // the next index the item maps to
}

func newMapping(x *Item) mapping { return mapping{state: hash64(x, seedSalt)} }

// advance moves to the item's next index. Given the last index j and a
// uniform 64-bit r, the gap is ceil((j+1.5)(2^32/sqrt(r)-1)): the gap
// exceeds t with probability ((j+1.5)/(j+1.5+t))^2, which is the product of
// 1-1/(1+k/2) over the indices k it skips.
func (m *mapping) advance() {
	j := m.next
	if j >= MaxIndex {
		m.next = never
		return
	}
	m.state += 0x9e3779b97f4a7c15
	s := isqrt(mix(m.state))
	if s == 0 {
		s = 1
	}
	// (2j+3)(2^32-s)/(2s): 2j+3 < 2^31+3 and 2^32-s <= 2^32, so the
	// product fits.
	num := (2*j + 3) * (1<<32 - s)
	gap := (num + 2*s - 1) / (2 * s)
	if gap == 0 {
		gap = 1
	}
	if gap >= MaxIndex-j {
		m.next = never
		return
	}
	m.next = j + gap
}

// isqrt is the floor of the square root of r, exactly.
func isqrt(r uint64) uint64 {
	s := uint64(math.Sqrt(float64(r)))
	for s > 0xffffffff || s*s > r {
		s--
	}
	for s < 0xffffffff && (s+1)*(s+1) <= r {
		s++
	}
	return s
}
