package riblt

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkCompareRangeBased estimates what range-based reconciliation
// (negentropy, NIP-77: ranges split 16 ways, a 16-byte fingerprint and a
// bound per range, ID lists below 32 items) would send for the sets this
// package reconciles, next to the coded symbols. It logs figures only; the
// package doc quotes them. Run with -bench CompareRangeBased -benchtime 1x.
func BenchmarkCompareRangeBased(b *testing.B) {
	for i := 0; i < b.N; i++ {
		compareRangeBased(b)
	}
}

func compareRangeBased(t *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	const n = 100_000
	common := sortItems(randomItems(r, n))
	for _, d := range []int{1, 10, 100, 1000} {
		extra := randomItems(r, d)
		remote := sortItems(append(slices.Clone(common), extra...))
		rb := rangeBytes(common, remote)
		_, used := reconcile(t, common, remote, 1)
		t.Logf("n=%d d=%d: range-based %d bytes (%.0f per difference); coded symbols %d bytes (%.0f per difference)",
			n, d, rb, float64(rb)/float64(d), used*SymbolSize, float64(used*SymbolSize)/float64(d))
	}
}

// rangeBytes counts the bytes of a range-based exchange between sorted
// sets a and b: each round, every range that still differs is split into 16
// parts, each sent as a bound (6 bytes, a shortened ID prefix) and a mode
// byte with a fingerprint (16 bytes) or, below 32 items, the IDs (32 bytes
// each, both sides' lists).
func rangeBytes(a, b []Item) int {
	type rng struct{ lo, hi Item }
	var maxItem Item
	for i := range maxItem {
		maxItem[i] = 0xff
	}
	count := func(s []Item, r rng) []Item {
		i, _ := slices.BinarySearchFunc(s, r.lo, func(x, y Item) int { return bytes.Compare(x[:], y[:]) })
		j, _ := slices.BinarySearchFunc(s, r.hi, func(x, y Item) int { return bytes.Compare(x[:], y[:]) })
		return s[i:j]
	}
	total := 0
	todo := []rng{{lo: Item{}, hi: maxItem}}
	for len(todo) > 0 {
		var next []rng
		for _, r := range todo {
			sa, sb := count(a, r), count(b, r)
			if len(sb) < 32 {
				total += 7 + 32*(len(sb)+len(sa)) // both lists, to learn both ways
				continue
			}
			// 16 parts at the provider's quantiles.
			for k := 0; k < 16; k++ {
				lo := sb[k*len(sb)/16]
				hi := r.hi
				if k < 15 {
					hi = sb[(k+1)*len(sb)/16]
				}
				if k == 0 {
					lo = r.lo
				}
				part := rng{lo, hi}
				total += 7 + 16
				pa, pb := count(a, part), count(b, part)
				if !slices.Equal(pa, pb) {
					next = append(next, part)
				}
			}
		}
		todo = next
	}
	return total
}
