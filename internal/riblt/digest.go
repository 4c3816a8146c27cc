package riblt

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
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

// DigestSize is the size of a Digest on the wire: its lanes, 8 bytes each,
// little-endian.
const DigestSize = 8 * Lanes

// AppendDigest appends the wire form of d's lanes to buf (the count
// travels apart).
func AppendDigest(buf []byte, d *Digest) []byte {
	for _, v := range d.lanes {
		buf = binary.LittleEndian.AppendUint64(buf, v)
	}
	return buf
}

// ParseDigest decodes a digest's lanes, with count items.
func ParseDigest(b []byte, count int64) (Digest, error) {
	if len(b) != DigestSize {
		return Digest{}, fmt.Errorf("riblt: digest: %d bytes, want %d", len(b), DigestSize)
	}
	d := Digest{count: count}
	for i := range d.lanes {
		v := binary.LittleEndian.Uint64(b[8*i:])
		if v >= prime {
			return Digest{}, fmt.Errorf("riblt: digest: lane %d is not below 2^61-1", i)
		}
		d.lanes[i] = v
	}
	return d, nil
}
