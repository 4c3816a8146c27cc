package riblt

// Encoder computes the coded symbols of a fixed set, as many as asked for,
// extending them on demand. It is not safe for concurrent use.
type Encoder struct {
	items []encItem
	coded []Symbol
}

// encItem is an item with where its mapping stands.
type encItem struct {
	x     Item
	check uint64
	m     mapping
}

// NewEncoder returns an Encoder over items, which must be distinct. It
// keeps its own copy.
func NewEncoder(items []Item) *Encoder {
	e := &Encoder{items: make([]encItem, len(items))}
	for i := range items {
		e.items[i] = encItem{x: items[i], check: Checksum(&items[i]), m: newMapping(&items[i])}
	}
	return e
}

// Item returns the i-th item, in the order NewEncoder was given them.
func (e *Encoder) Item(i int) Item { return e.items[i].x }

// Len is the number of items.
func (e *Encoder) Len() int { return len(e.items) }

// Symbols returns coded symbols [from, to), computing those not computed
// yet. The result is the Encoder's own: do not modify it.
func (e *Encoder) Symbols(from, to int) []Symbol {
	to = min(to, MaxIndex)
	if to > len(e.coded) {
		e.extend(to)
	}
	from = min(from, to)
	return e.coded[from:to]
}

// extend computes the symbols up to to.
func (e *Encoder) extend(to int) {
	start := len(e.coded)
	e.coded = append(e.coded, make([]Symbol, to-start)...)
	end := uint64(to)
	for i := range e.items {
		it := &e.items[i]
		for it.m.next < end {
			e.coded[it.m.next].add(&it.x, it.check, 1)
			it.m.advance()
		}
	}
}

// Encode returns coded symbols [from, to) of items in one go.
func Encode(items []Item, from, to int) []Symbol {
	return NewEncoder(items).Symbols(from, to)
}
