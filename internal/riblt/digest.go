package riblt

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Lanes is how many field elements a Digest sums.
const Lanes = 16

// prime is the field of the digest: 2^61-1.
const prime = 1<<61 - 1

// Digest sums per-item values in Lanes lanes modulo 2^61-1, so that items
// can be added and removed in any order. Its zero value is the empty set.
type Digest struct {
	lanes [Lanes]uint64
	count int64
}

// ItemLanes is an item's contribution to a Digest. Computing it is the
// costly part (four SHA-256 blocks); stores compute it once per order.
type ItemLanes [Lanes]uint64

// LanesOf derives an item's lanes: SHA-256 of a domain tag, a block number
// and the item, four blocks of 256 bits, each cut into four 64-bit words
// reduced into the field.
func LanesOf(x *Item) ItemLanes {
	var in [34]byte
	in[0] = 'd'
	copy(in[2:], x[:])
	var l ItemLanes
	for b := 0; b < Lanes/4; b++ {
		in[1] = byte(b)
		sum := sha256.Sum256(in[:])
		for w := 0; w < 4; w++ {
			l[4*b+w] = reduce(binary.LittleEndian.Uint64(sum[8*w:]))
		}
	}
	return l
}

// reduce maps a 64-bit word into [0, prime).
func reduce(v uint64) uint64 {
	v = (v & prime) + (v >> 61)
	if v >= prime {
		v -= prime
	}
	return v
}

// Add puts an item, given its lanes, into d.
func (d *Digest) Add(l *ItemLanes) {
	for i := range d.lanes {
		v := d.lanes[i] + l[i]
		if v >= prime {
			v -= prime
		}
		d.lanes[i] = v
	}
	d.count++
}

// Remove takes an item, given its lanes, out of d.
func (d *Digest) Remove(l *ItemLanes) {
	for i := range d.lanes {
		v := d.lanes[i] + prime - l[i]
		if v >= prime {
			v -= prime
		}
		d.lanes[i] = v
	}
	d.count--
}

// AddItem is Add(LanesOf(x)).
func (d *Digest) AddItem(x *Item) {
	l := LanesOf(x)
	d.Add(&l)
}

// RemoveItem is Remove(LanesOf(x)).
func (d *Digest) RemoveItem(x *Item) {
	l := LanesOf(x)
	d.Remove(&l)
}

// Merge adds every item of o to d (d and o must hold disjoint sets).
func (d *Digest) Merge(o *Digest) {
	for i := range d.lanes {
		v := d.lanes[i] + o.lanes[i]
		if v >= prime {
			v -= prime
		}
		d.lanes[i] = v
	}
	d.count += o.count
}

// Count is how many items d holds.
func (d *Digest) Count() int64 { return d.count }

// Eval is d's lanes as the coefficients of a polynomial, evaluated at key
// (reduced into the field), with the count mixed in as the constant term's
// partner: two digests of different sets evaluate to the same value at a
// random key with probability at most Lanes/(2^61-1): the polynomial has
// degree Lanes.
func (d *Digest) Eval(key uint64) uint64 {
	k := reduce(key)
	acc := reduce(uint64(d.count))
	for i := Lanes - 1; i >= 0; i-- {
		acc = mulmod(acc, k) + d.lanes[i]
		if acc >= prime {
			acc -= prime
		}
	}
	return acc
}

// mulmod is a*b modulo 2^61-1, for a, b below it.
func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a*b = hi*2^64 + lo = (hi<<3 | lo>>61)*2^61 + (lo & prime).
	v := (lo & prime) + (hi<<3 | lo>>61)
	if v >= prime {
		v -= prime
	}
	return v
}
