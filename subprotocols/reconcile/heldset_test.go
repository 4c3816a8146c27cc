package reconcile

import (
	"bytes"
	"testing"
)

// A held set holds every hash it was made of, and next to none of the
// others (about 1 in 268 million), in under 30 bits a hash where a held
// filter takes 40.
func TestHeldSetHoldsItsHashesAndFewOthers(t *testing.T) {
	hashes := randomHashes(20_000, 1)
	raw, count := encodeHeldSet(hashes, nil, 7, heldSetBits)
	if count != len(hashes) || len(raw)*8 > 30*len(hashes) {
		t.Fatalf("%d bytes for %d of %d hashes", len(raw), count, len(hashes))
	}
	set, err := decodeHeldSet(raw, count, heldSetBits, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes for %d hashes (%.1f bits each)", len(raw), count, float64(8*len(raw))/float64(count))
	checkHolds(t, set.holds, hashes)
	if raw, _ := encodeHeldSet(nil, nil, 1, heldSetBits); raw != nil {
		t.Error("a set of no hashes")
	}
	if raw, _ := encodeHeldSet(randomHashes(MaxSymbols+1, 3), nil, 1, heldSetBits); raw != nil {
		t.Error("a set of more than MaxSymbols hashes")
	}
}

// A held set that is cut short, or whose values run past n·2^P, does not
// decode.
func TestHeldSetBounds(t *testing.T) {
	raw, count := encodeHeldSet(randomHashes(100, 4), nil, 9, heldSetBits)
	for name, tc := range map[string]struct {
		raw         []byte
		count, bits int
	}{
		"cut short":      {raw[:len(raw)-5], count, heldSetBits},
		"more values":    {raw, count + 50, heldSetBits},
		"all ones":       {[]byte{0xff, 0xff, 0xff, 0xff}, 1, 1},
		"past the range": {[]byte{0b001}, 1, 1}, // a quotient of 1: 2, past 1·2^1
		"no values":      {raw, 0, heldSetBits},
		"too many bits":  {raw, count, MaxHeldSetBits + 1},
	} {
		if _, err := decodeHeldSet(tc.raw, tc.count, tc.bits, 9); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// BenchmarkHeldSetWorstDecode is what the largest held set costs a
// provider to decode: MaxHeldSet bytes of ones but the last value's end,
// every bit read.
func BenchmarkHeldSetWorstDecode(b *testing.B) {
	raw := bytes.Repeat([]byte{0xff}, MaxHeldSet)
	for i := 0; i < b.N; i++ {
		if _, err := decodeHeldSet(raw, MaxSymbols, MaxHeldSetBits, 1); err == nil {
			b.Fatal("a set of ones decoded")
		}
	}
}

// BenchmarkHeldSetDecode decodes an honest set of MaxSymbols hashes.
func BenchmarkHeldSetDecode(b *testing.B) {
	raw, count := encodeHeldSet(randomHashes(MaxSymbols, 6), nil, 1, heldSetBits)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := decodeHeldSet(raw, count, heldSetBits, 1); err != nil {
			b.Fatal(err)
		}
	}
}
