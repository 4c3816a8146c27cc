package ordersync

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestMissingViewClaimsEachHashOnce(t *testing.T) {
	v := &Validation{}
	a, b := v.NewClaims(), v.NewClaims()
	h1, h2, h3 := common.Hash{1}, common.Hash{2}, common.Hash{3}

	mine, busy := a.Claim([]common.Hash{h1, h2, h1})
	if len(mine) != 2 || mine[0] != h1 || mine[1] != h2 || len(busy) != 0 {
		t.Fatalf("a's claim: mine %v busy %v, want [h1 h2] []", mine, busy)
	}
	mine, busy = b.Claim([]common.Hash{h2, h3})
	if len(mine) != 1 || mine[0] != h3 || len(busy) != 1 || busy[0] != h2 {
		t.Fatalf("b's claim: mine %v busy %v, want [h3] [h2]", mine, busy)
	}

	// b's release of a hash a holds changes nothing.
	b.Release([]common.Hash{h2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.Await(ctx, []common.Hash{h2}); err == nil {
		t.Fatal("Await returned nil while a still fetches h2")
	}

	waited := make(chan error, 1)
	go func() { waited <- v.Await(context.Background(), []common.Hash{h1, h2}) }()
	a.Release([]common.Hash{h1})
	a.Release([]common.Hash{h2})
	if err := <-waited; err != nil {
		t.Fatalf("Await: %v", err)
	}
	if mine, _ := b.Claim([]common.Hash{h1}); len(mine) != 1 {
		t.Fatal("h1 still claimed after a released it")
	}
}

func TestNilValidationClaimsEverything(t *testing.T) {
	var v *Validation
	hs := []common.Hash{{1}, {2}}
	for _, c := range []*Claims{v.NewClaims(), v.SyncClaims("a")} {
		if c != nil {
			t.Fatal("a nil Validation gave non-nil Claims")
		}
		if mine, busy := c.Claim(hs); len(mine) != 2 || busy != nil {
			t.Fatalf("mine %v busy %v", mine, busy)
		}
		c.Release(hs)
		c.ReleaseAll()
	}
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
	mine, busy := v.NewClaims().ClaimLacking([]common.Hash{h1, h2}, lacking)
	if len(mine) != 1 || mine[0] != h2 || len(busy) != 0 {
		t.Fatalf("mine %v busy %v, want [h2] []", mine, busy)
	}
	if mine, _ := v.NewClaims().Claim([]common.Hash{h1}); len(mine) != 1 {
		t.Fatal("h1, held, was left claimed")
	}
}

// A sync's claims end with the sync; a fetch's own claims stay until it
// releases them, and ReleaseAll releases only its own.
func TestClaimsBelongToTheirFetch(t *testing.T) {
	v := &Validation{}
	sync1 := v.SyncClaims("p")
	if v.SyncClaims("p") != sync1 {
		t.Fatal("two calls during one sync gave different Claims")
	}
	news := v.NewClaims()
	other := v.NewClaims()
	sync1.Claim([]common.Hash{{1}, {2}})
	news.Claim([]common.Hash{{3}})
	other.Claim([]common.Hash{{4}})

	v.endSync("p")
	if err := v.Await(context.Background(), []common.Hash{{1}, {2}}); err != nil {
		t.Fatal(err)
	}
	if mine, _ := v.NewClaims().Claim([]common.Hash{{3}}); len(mine) != 0 {
		t.Fatal("the end of a sync with p released another fetch's claim")
	}
	if v.SyncClaims("p") == sync1 {
		t.Fatal("the next sync with p got the ended sync's Claims")
	}
	// An ended sync's Claims releases nothing it no longer holds.
	again := v.NewClaims()
	again.Claim([]common.Hash{{1}})
	sync1.Release([]common.Hash{{1}})
	if mine, _ := v.NewClaims().Claim([]common.Hash{{1}}); len(mine) != 0 {
		t.Fatal("an ended sync's Claims released a claim made since")
	}
	news.ReleaseAll()
	if mine, _ := v.NewClaims().Claim([]common.Hash{{3}, {4}}); len(mine) != 1 || mine[0] != (common.Hash{3}) {
		t.Fatalf("after news.ReleaseAll, claimed %v: want only news's hash", mine)
	}
}
