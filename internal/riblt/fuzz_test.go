package riblt

import (
	"math/rand/v2"
	"testing"
)

// FuzzParseSymbols: any input parses or fails, and what parses encodes
// back to itself.
func FuzzParseSymbols(f *testing.F) {
	f.Add(make([]byte, SymbolSize))
	f.Add(make([]byte, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		syms, err := ParseSymbols(b)
		if err != nil {
			return
		}
		if got := AppendSymbols(nil, syms); string(got) != string(b) {
			t.Fatal("symbols do not round-trip")
		}
	})
}

// FuzzDecoder feeds a Decoder symbols from a peer: it never panics, never
// finds more than its limit, and whatever it decodes it found in pure
// symbols (so each item is distinct).
func FuzzDecoder(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	xs := randomItems(r, 3)
	f.Add(AppendSymbols(nil, Encode(xs, 0, 8)), uint8(2))
	f.Add(make([]byte, 4*SymbolSize), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		b = b[:len(b)/SymbolSize*SymbolSize]
		syms, err := ParseSymbols(b)
		if err != nil {
			t.Fatal(err)
		}
		dec := NewDecoder(NewEncoder(xs[:1]), 16)
		k := min(int(split), len(syms))
		if err := dec.Add(syms[:k]); err != nil {
			return
		}
		if err := dec.Add(syms[k:]); err != nil {
			return
		}
		if dec.Differences() > 16 {
			t.Fatalf("%d differences past the limit", dec.Differences())
		}
		seen := map[Item]bool{}
		for _, x := range append(dec.RemoteOnly(), dec.LocalOnly()...) {
			if seen[x] {
				t.Fatal("item decoded twice")
			}
			seen[x] = true
		}
	})
}
