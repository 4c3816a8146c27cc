package riblt

// DefaultIndexSymbols is how many coded symbols an Index keeps by default:
// enough to decode about 5 000 differences from the index alone, for
// 8 192 × 48 bytes (384 KiB) per set, and about 17 symbol updates for each
// order added or removed.
const DefaultIndexSymbols = 1 << 13

// Index keeps the first coded symbols and the Digest of a changing set
// current as items are added and removed, in O(log Symbols) per change.
// It is not safe for concurrent use: its owner (a store) locks it.
type Index struct {
	prefix []Symbol
	digest Digest
}

// NewIndex returns the Index of the empty set, keeping symbols coded
// symbols (DefaultIndexSymbols when symbols < 1).
func NewIndex(symbols int) *Index {
	if symbols < 1 {
		symbols = DefaultIndexSymbols
	}
	return &Index{prefix: make([]Symbol, min(symbols, MaxIndex))}
}

// Add puts item x, whose lanes are l, into the set. The caller makes sure
// x was not in it.
func (ix *Index) Add(x *Item, l *ItemLanes) { ix.update(x, 1); ix.digest.Add(l) }

// Remove takes item x, whose lanes are l, out of the set. The caller makes
// sure x was in it.
func (ix *Index) Remove(x *Item, l *ItemLanes) { ix.update(x, -1); ix.digest.Remove(l) }

func (ix *Index) update(x *Item, sign int64) {
	check := Checksum(x)
	end := uint64(len(ix.prefix))
	for m := newMapping(x); m.next < end; m.advance() {
		ix.prefix[m.next].add(x, check, sign)
	}
}

// Len is how many items the set holds.
func (ix *Index) Len() int { return int(ix.digest.count) }

// Symbols is how many coded symbols the Index keeps.
func (ix *Index) Symbols() int { return len(ix.prefix) }

// Digest returns the set's digest.
func (ix *Index) Digest() Digest { return ix.digest }

// AppendPrefix appends the first n kept symbols (all of them when n is
// larger) to dst.
func (ix *Index) AppendPrefix(dst []Symbol, n int) []Symbol {
	return append(dst, ix.prefix[:min(n, len(ix.prefix))]...)
}

// Merge adds the set of o, disjoint from ix's and kept with as many
// symbols, to ix.
func (ix *Index) Merge(o *Index) {
	for i := range ix.prefix[:min(len(ix.prefix), len(o.prefix))] {
		ix.prefix[i].merge(&o.prefix[i], 1)
	}
	ix.digest.Merge(&o.digest)
}
