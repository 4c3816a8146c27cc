package ordersync

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// asIs is a TakeShare split that keeps the ranges as they are.
func asIs(rs []HashRange) []HashRange { return rs }

// inHalves is a TakeShare split that cuts each range in two.
func inHalves(rs []HashRange) []HashRange {
	var out []HashRange
	for _, r := range rs {
		lo, hi := r.upperHalf()
		out = append(out, lo, hi)
	}
	return out
}

func TestShareBoardSplitsTheSpace(t *testing.T) {
	v := &Validation{}
	a, b, c := peer.ID("a"), peer.ID("b"), peer.ID("c")

	sa := v.TakeShare(a, 8, inHalves)
	if len(sa) != 2 || sa[0].After != (common.Hash{}) || sa[1].Bounded {
		t.Fatalf("first share %v: want the whole space in two lanes, the last unbounded", sa)
	}
	if again := v.TakeShare(a, 8, inHalves); len(again) != 2 {
		t.Fatalf("a's share taken again: %v", again)
	}
	// b takes the upper half of each of a's lanes.
	sb := v.TakeShare(b, 8, asIs)
	if len(sb) != 2 {
		t.Fatalf("b's share %v: want two ranges", sb)
	}
	total := new(big.Int).Add(width(sb), width(mustShare(t, v, a)))
	if want := new(big.Int).Sub(hashSpaceSize, big.NewInt(3)); total.Cmp(want) < 0 {
		t.Fatalf("a and b hold %v hashes between them, want about 2^256", total)
	}
	for i, r := range sb {
		ar, _ := v.ShareRange(a, i)
		if !ar.Bounded || ar.End.Big().Cmp(new(big.Int).Add(r.After.Big(), big.NewInt(1))) != 0 {
			t.Fatalf("a's lane %d %v does not end where b's range %v starts", i, ar, r)
		}
	}
	// What a has paged is not split again: c halves what is left.
	ar, _ := v.ShareRange(a, 0)
	quarter := new(big.Int).Rsh(ar.Width(), 1)
	v.Paged(a, 0, common.BigToHash(new(big.Int).Add(ar.After.Big(), quarter)))
	v.TakeShare(c, 1, asIs)
	if got, _ := v.ShareRange(a, 0); got.After == ar.After {
		t.Fatal("Paged did not move a's lane")
	}

	// A provider that has paged its share takes half of the widest range
	// left to another.
	for i := range mustShare(t, v, c) {
		v.Paged(c, i, common.MaxHash)
	}
	r, lane, ok := v.StealRange(c, big.NewInt(1000))
	if !ok || lane != len(mustShare(t, v, c))-1 || r.Width().Sign() <= 0 {
		t.Fatalf("StealRange: %v lane %d ok %v", r, lane, ok)
	}
	if _, _, ok := v.StealRange(c, hashSpaceSize); ok {
		t.Fatal("StealRange took a range narrower than asked for")
	}
}

func mustShare(t *testing.T, v *Validation, p peer.ID) []HashRange {
	t.Helper()
	s := v.shares.shares[p]
	if s == nil {
		t.Fatalf("%s holds no share", p)
	}
	return s
}

func TestAwaitSharesWaitsForEveryShare(t *testing.T) {
	v := &Validation{}
	v.TakeShare("a", 8, asIs)
	v.TakeShare("b", 8, asIs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.AwaitShares(ctx); err == nil {
		t.Fatal("AwaitShares returned nil while shares are held")
	}
	done := make(chan error, 1)
	go func() { done <- v.AwaitShares(context.Background()) }()
	v.LeaveShare("a")
	v.LeaveShare("b")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A nil Validation gives the whole space and waits for nothing.
	var none *Validation
	if s := none.TakeShare("a", 8, asIs); len(s) != 1 || s[0].Bounded {
		t.Fatalf("nil Validation's share %v", s)
	}
	if err := none.AwaitShares(ctx); err != nil {
		t.Fatal(err)
	}
}
