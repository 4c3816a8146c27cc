package riblt

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEstimateDifferences checks the estimate of a difference from half as
// many symbols as it has items, and from as many, for differences on one
// side, on both, and of unequal sets. (Its spread is about sqrt(2/n) of the
// difference for n symbols.)
func TestEstimateDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	common := randomItems(r, 3000)
	for _, d := range []int{1000, 5000} {
		for _, localShare := range []float64{0, 0.3, 0.5, 1} {
			extra := randomItems(r, d)
			a := int(localShare * float64(d))
			local := append(slices.Clone(common), extra[:a]...)
			remote := append(slices.Clone(common), extra[a:]...)
			enc := NewEncoder(remote)
			dec := NewDecoder(NewEncoder(local), 0)
			for _, n := range []int{d / 2, d} {
				from := dec.Received()
				if err := dec.Add(enc.Symbols(from, n)); err != nil {
					t.Fatal(err)
				}
				got := dec.EstimateDifferences(len(remote) - len(local))
				if float64(got) < 0.75*float64(d) || float64(got) > 1.3*float64(d) {
					t.Errorf("d=%d, %d local only, after %d symbols: estimated %d", d, a, n, got)
				}
			}
		}
	}
}

// TestEstimateDifferencesDone checks that a decoded difference is
// estimated exactly, and that symbols no set gives (counts at the edge of
// their range) give a finite estimate.
func TestEstimateDifferencesDone(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	common := randomItems(r, 500)
	remote := append(slices.Clone(common), randomItems(r, 40)...)
	dec, _ := reconcile(t, common, remote, 16)
	if got := dec.EstimateDifferences(40); got != 40 {
		t.Errorf("decoded 40 differences, estimated %d", got)
	}
	forged := make([]Symbol, 64)
	for i := range forged {
		forged[i].Count = -128
		forged[i].Sum[0] = byte(i)
	}
	dec = NewDecoder(NewEncoder(nil), 0)
	if err := dec.Add(forged); err != nil {
		t.Fatal(err)
	}
	if got := dec.EstimateDifferences(1 << 62); got < 0 || got > MaxIndex {
		t.Errorf("forged symbols: estimated %d", got)
	}
}
