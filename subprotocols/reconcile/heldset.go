package reconcile

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/riblt"
)

// A held set does a held filter's job in about three quarters of its
// bytes: a Golomb-coded set (Golomb-Rice, as BIP-158's block filters) of
// the requester's hashes, each mapped to [0, n·2^P) by its salted hash and
// the sorted values' gaps coded as a unary quotient and P remainder bits,
// about P+1.5 bits a hash. At P = 28 a hash the requester lacks is held
// by mistake about once in 268 million, against the Bloom filter's once
// in 220 million at 40 bits. The provider decodes the set (at most
// MaxSymbols values) and tests each hash it scans by binary search.
// Requesters send one only to a provider whose sketch answers show it
// knows them (ResponseMetadata.HeldSets).

// heldSetBits is P: the remainder bits of each gap.
const heldSetBits = 28

// Wire bounds of a held set.
const (
	// MaxHeldSetBits bounds P.
	MaxHeldSetBits = 40
	// MaxHeldSet is the largest held set a request may carry, in bytes:
	// MaxSymbols values at up to 40 bits each.
	MaxHeldSet = MaxSymbols * 40 / 8
)

// errHeldSet is the error of a held set that does not decode.
var errHeldSet = errors.New("held set")

// heldSet is a decoded held set: the values of its hashes, ascending.
type heldSet struct {
	values []uint64
	rangeN uint64 // n·2^P: the values are below it
	salt   uint64
}

// heldSetValue maps x to [0, rangeN) by its salted hash.
func heldSetValue(x *riblt.Item, salt, rangeN uint64) uint64 {
	hi, _ := bits.Mul64(riblt.SaltedHash(x, salt), rangeN)
	return hi
}

// encodeHeldSet codes hashes, less those in skip, under salt with p
// remainder bits; it returns nil when there are none or more than
// MaxSymbols, and the count it coded.
func encodeHeldSet(hashes []common.Hash, skip map[common.Hash]bool, salt uint64, p int) ([]byte, int) {
	n := len(hashes) - len(skip)
	if n <= 0 || n > MaxSymbols {
		return nil, 0
	}
	rangeN := uint64(n) << p
	values := make([]uint64, 0, n)
	for i := range hashes {
		if skip[hashes[i]] {
			continue
		}
		x := riblt.Item(hashes[i])
		values = append(values, heldSetValue(&x, salt, rangeN))
	}
	slices.Sort(values)
	values = slices.Compact(values) // a value held twice holds both hashes
	var w bitWriter
	prev := uint64(0)
	for _, v := range values {
		d := v - prev
		prev = v
		for q := d >> p; q > 0; q-- {
			w.put(1)
		}
		w.put(0)
		for i := 0; i < p; i++ {
			w.put(uint8(d>>i) & 1)
		}
	}
	return w.b, len(values)
}

// decodeHeldSet decodes count values with p remainder bits from b,
// within the wire bounds: a quotient cannot run past b, nor a value past
// count·2^p.
func decodeHeldSet(b []byte, count, p int, salt uint64) (*heldSet, error) {
	if count < 1 || count > MaxSymbols || p < 1 || p > MaxHeldSetBits || len(b) > MaxHeldSet {
		return nil, fmt.Errorf("%w: %d values, %d bits, %d bytes", errHeldSet, count, p, len(b))
	}
	s := &heldSet{values: make([]uint64, 0, count), rangeN: uint64(count) << p, salt: salt}
	r := bitReader{b: b}
	v := uint64(0)
	for len(s.values) < count {
		q, ok := r.unary()
		if !ok {
			return nil, fmt.Errorf("%w: ends in value %d", errHeldSet, len(s.values))
		}
		rem, ok := r.bits(p)
		if !ok {
			return nil, fmt.Errorf("%w: ends in value %d", errHeldSet, len(s.values))
		}
		// q is at most 8·len(b): the sum cannot wrap.
		v += q<<p | rem
		if v >= s.rangeN {
			return nil, fmt.Errorf("%w: value %d past %d", errHeldSet, len(s.values), s.rangeN)
		}
		s.values = append(s.values, v)
	}
	return s, nil
}

// holds reports whether x's value is in the set: x is in the coded set,
// or a false positive.
func (s *heldSet) holds(x *riblt.Item) bool {
	_, found := slices.BinarySearch(s.values, heldSetValue(x, s.salt, s.rangeN))
	return found
}

// bitWriter appends bits, least significant first in each byte.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) put(bit uint8) {
	if w.n%8 == 0 {
		w.b = append(w.b, 0)
	}
	w.b[len(w.b)-1] |= bit << (w.n % 8)
	w.n++
}

// bitReader reads bits as bitWriter writes them, a byte's worth at a
// time: bit by bit, the largest set took 13 ms to decode.
type bitReader struct {
	b []byte
	n int // bits read
}

// unary reads 1 bits up to a 0 and returns how many; false when b ends
// first.
func (r *bitReader) unary() (uint64, bool) {
	q := uint64(0)
	for r.n < 8*len(r.b) {
		off := r.n % 8
		ones := bits.TrailingZeros8(^(r.b[r.n/8] >> off)) // at most 8-off
		if ones < 8-off {
			r.n += ones + 1
			return q + uint64(ones), true
		}
		q += uint64(8 - off)
		r.n += 8 - off
	}
	return 0, false
}

// bits reads p bits as a number, the first the least significant; false
// when b ends first.
func (r *bitReader) bits(p int) (uint64, bool) {
	if r.n+p > 8*len(r.b) {
		return 0, false
	}
	v := uint64(0)
	for got := 0; got < p; {
		off := r.n % 8
		take := min(8-off, p-got)
		v |= uint64(r.b[r.n/8]>>off&(1<<take-1)) << got
		got += take
		r.n += take
	}
	return v, true
}

// heldWire is what a sync's list requests carry of the requester's set:
// a held set for a provider that knows them, a held filter otherwise.
type heldWire struct {
	filter *heldFilter
	set    []byte
	count  int
	salt   uint64
}

// newHeldWire codes hashes, less skip, as a held set when sets is true and
// as a held filter otherwise; nil when there is nothing to code or too
// much.
func newHeldWire(hashes []common.Hash, skip map[common.Hash]bool, sets bool) *heldWire {
	if !sets {
		if f := newHeldFilter(hashes, skip); f != nil {
			return &heldWire{filter: f}
		}
		return nil
	}
	salt := rand.Uint64()
	set, count := encodeHeldSet(hashes, skip, salt, heldSetBits)
	if set == nil {
		return nil
	}
	return &heldWire{set: set, count: count, salt: salt}
}

// put sets md's held filter or held set fields.
func (h *heldWire) put(md *RequestMetadata) {
	if h.filter != nil {
		md.HeldFilter, md.HeldFilterPositions, md.HeldFilterSalt = h.filter.bits, h.filter.positions, h.filter.salt
		return
	}
	md.HeldSet, md.HeldSetCount, md.HeldSetBits, md.HeldSetSalt = h.set, h.count, heldSetBits, h.salt
}
