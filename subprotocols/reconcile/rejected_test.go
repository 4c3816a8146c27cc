package reconcile

import (
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// A rejection remembered for every provider counts with each; one
// remembered for a provider counts with it alone, and once only when it
// is remembered for every provider too.
func TestRejectedSetByProvider(t *testing.T) {
	now := time.Unix(0, 0)
	r := newRejectedSet(10, time.Hour, func() time.Time { return now })
	content, spoiled, both := common.Hash{1}, common.Hash{2}, common.Hash{3}
	r.add("", content)
	r.add("hostile", spoiled)
	r.add("hostile", both)
	r.add("", both)
	sorted := func(hs []common.Hash) []common.Hash {
		slices.SortFunc(hs, func(a, b common.Hash) int { return a.Cmp(b) })
		return hs
	}
	all, own := r.list("hostile")
	if !slices.Equal(sorted(all), []common.Hash{content, both}) || !slices.Equal(own, []common.Hash{spoiled}) {
		t.Errorf("with the hostile provider: all %v, own %v", all, own)
	}
	all, own = r.list("honest")
	if !slices.Equal(sorted(all), []common.Hash{content, both}) || len(own) != 0 {
		t.Errorf("with the honest provider: all %v, own %v", all, own)
	}
	now = now.Add(2 * time.Hour)
	if all, own := r.list("hostile"); len(all)+len(own) != 0 {
		t.Errorf("after they expired: %v, %v", all, own)
	}
}
