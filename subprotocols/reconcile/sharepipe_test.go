package reconcile

import (
	"bytes"
	"context"
	"math/big"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/zeroex"
)

// A lane of a share asks for its next page ahead, and the page it was
// asked for is then taken in within the lane as it was when asked: a
// provider that takes half of the share meanwhile moves the lane's end
// below the next cursor, and the lane still returns the request already
// written (the Service would abort the sync on a mismatch), then ends at
// the new end.
func TestShareLaneAsksAhead(t *testing.T) {
	orders := slices.Clone(storetest.Orders(0, 60))
	hashOf := func(o *zeroex.SignedOrder) common.Hash {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	slices.SortFunc(orders, func(a, b *zeroex.SignedOrder) int { h1, h2 := hashOf(a), hashOf(b); return bytes.Compare(h1[:], h2[:]) })
	// A page that crosses the middle of the hash space, where a second
	// provider's share will start.
	half := common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 255))
	cross := slices.IndexFunc(orders, func(o *zeroex.SignedOrder) bool { h := hashOf(o); return bytes.Compare(h[:], half[:]) > 0 })
	if cross < 3 || cross > len(orders)-3 {
		t.Skipf("generated orders do not straddle the middle (%d of %d below it)", cross, len(orders))
	}
	page := paging.Page{Provider: "a", Orders: orders[cross-3 : cross+3]}

	s := New(orderstore.NewMemory(), nil)
	v := &ordersync.Validation{}
	s.UseValidation(v)
	whole := v.TakeShare("a", 8, func(rs []ordersync.HashRange) []ordersync.HashRange { return rs })
	run := &shareRun{minSteal: new(big.Int).Lsh(big.NewInt(1), 256), lanes: 1, ended: make(map[int]bool)}
	after := hashOf(orders[cross-4])
	req := s.shareLaneRequest(after, paging.Lane(whole[0]), 0, run)
	md := req.Metadata.(*shareLaneMetadata)

	early, err := s.nextShareLaneRequest(md, md.Lane, page)
	if err != nil {
		t.Fatalf("a share lane's next request: %v", err)
	}
	v.TakeShare("b", 8, func(rs []ordersync.HashRange) []ordersync.HashRange { return rs })
	if r, _ := v.ShareRange("a", 0); !r.Bounded || bytes.Compare(r.End[:], early.Metadata.(*shareLaneMetadata).Metadata.After) > 0 {
		t.Fatalf("a's lane now ends at %v: the test wants it below the early request's cursor", r)
	}
	next, _, err := s.handleShareLane(context.Background(), md.Lane, md, page)
	if err != nil {
		t.Fatal(err)
	}
	if next == nil || !bytes.Equal(next.Metadata.(*shareLaneMetadata).Metadata.After, early.Metadata.(*shareLaneMetadata).Metadata.After) {
		t.Fatalf("handled the page into %v, want the request asked ahead, %v", next, early)
	}
	// The page of the request asked ahead lies past the new end: the lane
	// ends there, and asks nothing ahead of it.
	nmd := next.Metadata.(*shareLaneMetadata)
	if _, err := s.nextShareLaneRequest(nmd, nmd.Lane, paging.Page{Provider: "a", Orders: orders[cross+3 : cross+6]}); err != errUntold {
		t.Fatalf("past the share's new end: %v, want errUntold", err)
	}
}
