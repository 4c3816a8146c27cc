package reconcile

import (
	"crypto/rand"
	"testing"

	"github.com/ordersync/ordersync/internal/riblt"
)

// TestNextSymbolsDecodesWithLittleOvershoot runs the requester's requests
// for more symbols against real encoders of sets that differ on both
// sides, the provider's first answer sized as provider.go sizes it, and
// bounds the symbols taken per difference: a fixed growth of a half took
// about 1.7 here, decoding alone about 1.4.
func TestNextSymbolsDecodesWithLittleOvershoot(t *testing.T) {
	items := func(n int) []riblt.Item {
		out := make([]riblt.Item, n)
		for i := range out {
			rand.Read(out[i][:])
		}
		return out
	}
	common := items(1000)
	symbols, differences, rounds := 0, 0, 0
	for _, d := range []int{5, 30, 100, 300, 1000, 3000} {
		for _, localShare := range []int{0, 1, 2} { // none, half, all
			extra := items(d)
			a := d * localShare / 2
			local := append(append([]riblt.Item{}, common...), extra[:a]...)
			remote := append(append([]riblt.Item{}, common...), extra[a:]...)
			enc := riblt.NewEncoder(remote)
			dec := riblt.NewDecoder(riblt.NewEncoder(local), 0)
			count := firstBatch(len(local), len(remote))
			for {
				from := dec.Received()
				if err := dec.Add(enc.Symbols(from, from+count)); err != nil {
					t.Fatal(err)
				}
				rounds++
				if dec.Done() {
					break
				}
				count = nextSymbols(dec.Received(), dec.EstimateDifferences(len(remote)-len(local)))
			}
			symbols += dec.Received()
			differences += d
		}
	}
	per := float64(symbols) / float64(differences)
	t.Logf("%.2f symbols per difference, %d rounds for 18 syncs", per, rounds)
	if per > 1.6 {
		t.Errorf("%.2f symbols per difference, want at most 1.6", per)
	}
}

// TestNextSymbolsBounds checks that an estimate, which a provider's forged
// counts can make anything, moves a request only within its bounds.
func TestNextSymbolsBounds(t *testing.T) {
	for _, c := range []struct{ received, estimate, want int }{
		{12, 1 << 40, 8*12 + 16}, // at most 8 times as many, and 16
		{1000, 0, 62},            // at least a sixteenth more
		{12, 0, 16},              // and at least 16
		{1000, 2000, 1808},       // 1.4 per difference, and 8
	} {
		if got := nextSymbols(c.received, c.estimate); got != c.want {
			t.Errorf("nextSymbols(%d, %d) = %d, want %d", c.received, c.estimate, got, c.want)
		}
	}
}
