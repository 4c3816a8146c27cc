package ordersync

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestMissingViewClaimsEachHashOnce(t *testing.T) {
	v := &Validation{}
	a, b := peer.ID("a"), peer.ID("b")
	h1, h2, h3 := common.Hash{1}, common.Hash{2}, common.Hash{3}

	mine, busy := v.Claim(a, []common.Hash{h1, h2, h1})
	if len(mine) != 2 || mine[0] != h1 || mine[1] != h2 || len(busy) != 0 {
		t.Fatalf("a's claim: mine %v busy %v, want [h1 h2] []", mine, busy)
	}
	mine, busy = v.Claim(b, []common.Hash{h2, h3})
	if len(mine) != 1 || mine[0] != h3 || len(busy) != 1 || busy[0] != h2 {
		t.Fatalf("b's claim: mine %v busy %v, want [h3] [h2]", mine, busy)
	}

	// b's release of a hash a holds changes nothing.
	v.Release(b, []common.Hash{h2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.Await(ctx, []common.Hash{h2}); err == nil {
		t.Fatal("Await returned nil while a still fetches h2")
	}

	waited := make(chan error, 1)
	go func() { waited <- v.Await(context.Background(), []common.Hash{h1, h2}) }()
	v.Release(a, []common.Hash{h1})
	v.Release(a, []common.Hash{h2})
	if err := <-waited; err != nil {
		t.Fatalf("Await: %v", err)
	}
	if mine, _ := v.Claim(b, []common.Hash{h1}); len(mine) != 1 {
		t.Fatal("h1 still claimed after a released it")
	}
}

func TestNilValidationClaimsEverything(t *testing.T) {
	var v *Validation
	hs := []common.Hash{{1}, {2}}
	if mine, busy := v.Claim("a", hs); len(mine) != 2 || busy != nil {
		t.Fatalf("mine %v busy %v", mine, busy)
	}
	v.Release("a", hs)
	if err := v.Await(context.Background(), hs); err != nil {
		t.Fatal(err)
	}
}

// TestClaimLackingGivesBackWhatWasStored: an order another fetch stored
// between the caller's check and its claim is not claimed.
func TestClaimLackingGivesBackWhatWasStored(t *testing.T) {
	v := &Validation{}
	h1, h2 := common.Hash{1}, common.Hash{2}
	stored := map[common.Hash]bool{h1: true}
	lacking := func(hs []common.Hash) []common.Hash {
		var out []common.Hash
		for _, h := range hs {
			if !stored[h] {
				out = append(out, h)
			}
		}
		return out
	}
	mine, busy := v.ClaimLacking("a", []common.Hash{h1, h2}, lacking)
	if len(mine) != 1 || mine[0] != h2 || len(busy) != 0 {
		t.Fatalf("mine %v busy %v, want [h2] []", mine, busy)
	}
	if mine, _ := v.Claim("b", []common.Hash{h1}); len(mine) != 1 {
		t.Fatal("h1, held, was left claimed")
	}
}
