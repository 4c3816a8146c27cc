package riblt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Symbol is one coded symbol: the XOR of the items mapped to it, the XOR of
// their checksums, and how many there are (items added minus removed).
type Symbol struct {
	Sum   Item
	Check uint64
	Count int64
}

// add puts item x, whose checksum is check, into s with weight sign (+1 to
// add, -1 to remove).
func (s *Symbol) add(x *Item, check uint64, sign int64) {
	xorItem(&s.Sum, x)
	s.Check ^= check
	s.Count += sign
}

// merge adds (sign 1) or subtracts (sign -1) the items of o to s.
func (s *Symbol) merge(o *Symbol, sign int64) {
	xorItem(&s.Sum, &o.Sum)
	s.Check ^= o.Check
	s.Count += sign * o.Count
}

// isZero reports whether s holds nothing, counting modulo 256 as the wire
// does.
func (s *Symbol) isZero() bool {
	return s.Check == 0 && uint8(s.Count) == 0 && s.Sum == Item{}
}

// SymbolSize is the size of a symbol on the wire: sum, checksum, count
// modulo 256.
const SymbolSize = 32 + 8 + 1

// AppendSymbols appends the wire form of syms to buf.
func AppendSymbols(buf []byte, syms []Symbol) []byte {
	for i := range syms {
		s := &syms[i]
		buf = append(buf, s.Sum[:]...)
		c := s.Check
		buf = append(buf, byte(c), byte(c>>8), byte(c>>16), byte(c>>24), byte(c>>32), byte(c>>40), byte(c>>48), byte(c>>56))
		buf = append(buf, uint8(s.Count))
	}
	return buf
}

// ErrSymbolLength is ParseSymbols's error for input that is not a whole
// number of symbols.
var ErrSymbolLength = errors.New("riblt: coded symbols: length is not a multiple of 41 bytes")

// ParseSymbols decodes symbols in wire form. Counts come back in
// [-128, 127]: only their value modulo 256 travels.
func ParseSymbols(b []byte) ([]Symbol, error) {
	if len(b)%SymbolSize != 0 {
		return nil, fmt.Errorf("%w (%d bytes)", ErrSymbolLength, len(b))
	}
	syms := make([]Symbol, len(b)/SymbolSize)
	for i := range syms {
		p := b[i*SymbolSize:]
		s := &syms[i]
		copy(s.Sum[:], p[:32])
		p = p[32:]
		s.Check = uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
			uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
		s.Count = int64(int8(p[8]))
	}
	return syms, nil
}

// xorItem sets dst to dst XOR x, a word at a time: byte by byte it was most
// of the cost of keeping a store's index (17 symbols an order).
func xorItem(dst, x *Item) {
	le := binary.LittleEndian
	for i := 0; i < len(dst); i += 8 {
		le.PutUint64(dst[i:], le.Uint64(dst[i:])^le.Uint64(x[i:]))
	}
}
