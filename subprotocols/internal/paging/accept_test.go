package paging

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/zeroex"
)

func TestAcceptStoresValidPageAndAdvances(t *testing.T) {
	orders := sortedOrders(t, 0, 100)
	store := orderstore.NewMemory()
	var seen []*zeroex.SignedOrder
	p := NewPager(store, nil, WithOnAccepted(func(from peer.ID, os []*zeroex.SignedOrder) {
		if from != provider {
			t.Errorf("callback for %s", from)
		}
		seen = append(seen, os...)
	}))
	rec := recordOn(p)

	acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: orders[:60]})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Valid != 60 || acc.New != 60 || acc.Done || acc.Next != hashOf(t, orders[59]) {
		t.Fatalf("first page: %+v", acc)
	}
	acc, err = p.Accept(context.Background(), Page{Provider: provider, Orders: orders[60:]})
	if err != nil || acc.Valid != 40 || acc.Next != hashOf(t, orders[99]) {
		t.Fatalf("second page: %+v, %v", acc, err)
	}
	acc, err = p.Accept(context.Background(), Page{Provider: provider, Complete: true})
	if err != nil || !acc.Done {
		t.Fatalf("complete page: %+v, %v", acc, err)
	}
	if store.Len() != 100 || len(seen) != 100 {
		t.Fatalf("stored %d, callback saw %d; want 100", store.Len(), len(seen))
	}
	if c := rec.counts(); c != (counts{New: 100}) {
		t.Fatalf("counts %+v", c)
	}

	// After a complete page the provider starts over: the same orders are
	// valid again (and not new).
	acc, err = p.Accept(context.Background(), Page{Provider: provider, Orders: orders[:10]})
	if err != nil || acc.Valid != 10 || acc.New != 0 {
		t.Fatalf("fresh sync: %+v, %v", acc, err)
	}
}

func TestAcceptDropsAndCountsBadOrders(t *testing.T) {
	orders := sortedOrders(t, 0, 40)
	page := make([]*zeroex.SignedOrder, len(orders))
	copy(page, orders)

	// Malformed: nil, and a number that is not a uint256.
	page[1] = nil
	page[2] = copyOrder(orders[2])
	page[2].Salt = nil
	// Bad signatures: a flipped bit in r, and a truncated signature.
	page[5] = copyOrder(orders[5])
	page[5].Signature[10] ^= 1
	page[6] = copyOrder(orders[6])
	page[6].Signature = page[6].Signature[:30]
	// Unverifiable: a wallet signature.
	page[8] = copyOrder(orders[8])
	page[8].Signature[zeroex.ECSignatureLength-1] = byte(zeroex.SignatureTypeWallet)
	// Filter mismatch: the filter refuses one maker's orders.
	banned := orders[9].MakerAddress
	mismatches := 0
	for i, o := range page {
		if o != nil && o.MakerAddress == banned && i != 2 && i != 5 && i != 6 && i != 8 {
			mismatches++
		}
	}

	scorer := &recordingScorer{}
	filter := notMakerFilter(t, banned)
	store := orderstore.NewMemory()
	p := NewPager(store, filter, WithPeerScorer(scorer))
	rec := recordOn(p)
	acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: page})
	if err != nil {
		t.Fatal(err)
	}
	valid := 40 - 5 - mismatches
	if acc.Valid != valid || store.Len() != valid {
		t.Fatalf("valid %d, stored %d; want %d", acc.Valid, store.Len(), valid)
	}
	c := rec.counts()
	want := counts{Malformed: 2, BadSignature: 2, UnverifiableSignature: 1, FilterMismatch: mismatches, New: valid}
	if c != want {
		t.Fatalf("counts\n got %+v\nwant %+v", c, want)
	}
	if got := scorer.score(provider, peerscore.OrderDoesNotMatchFilter); got != peerscore.OrderDoesNotMatchFilterScore {
		t.Errorf("filter tag %d", got)
	}
	if got := scorer.score(provider, peerscore.InvalidOrderSignature); got != peerscore.InvalidOrderSignatureDelta {
		t.Errorf("signature tag %d (once per page)", got)
	}
	if got := scorer.score(provider, peerscore.InvalidOrder); got != peerscore.InvalidOrderDelta {
		t.Errorf("invalid-order tag %d", got)
	}
	for _, bad := range []int{5, 6, 8, 9} {
		if store.Has(hashOf(t, page[bad])) {
			t.Errorf("order %d was stored", bad)
		}
	}
}

func TestAcceptRejectsOrdersOutOfRange(t *testing.T) {
	orders := sortedOrders(t, 0, 30)
	scorer := &recordingScorer{}
	p := NewPager(orderstore.NewMemory(), nil, WithPeerScorer(scorer))
	rec := recordOn(p)

	// Unsorted and repeated: 0 1 2 [1] 3 4 [0] [4] 5 ... 19
	page := append([]*zeroex.SignedOrder{}, orders[:3]...)
	page = append(page, orders[1], orders[3], orders[4], orders[0], orders[4])
	page = append(page, orders[5:20]...)
	acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: page})
	if err != nil || acc.Valid != 20 || acc.Next != hashOf(t, orders[19]) {
		t.Fatalf("unsorted page: %+v, %v", acc, err)
	}
	if c := rec.counts(); c.OutOfRange != 3 {
		t.Fatalf("out of range %d, want 3", c.OutOfRange)
	}
	if scorer.score(provider, peerscore.InvalidOrder) != peerscore.InvalidOrderDelta {
		t.Fatal("disordered page not scored")
	}

	// The next page must start after the cursor (orders[19]) and not pass
	// the provider's own bound.
	page = []*zeroex.SignedOrder{orders[18], orders[20], orders[21], orders[25]}
	acc, err = p.Accept(context.Background(), Page{Provider: provider, Orders: page, Through: hashOf(t, orders[22])})
	if err != nil || acc.Valid != 2 || acc.Next != hashOf(t, orders[21]) {
		t.Fatalf("second page: %+v, %v", acc, err)
	}
	if c := rec.counts(); c.OutOfRange != 5 {
		t.Fatalf("out of range %d, want 5", c.OutOfRange)
	}
}

func TestAcceptEndsStalledSyncs(t *testing.T) {
	orders := sortedOrders(t, 0, 10)
	scorer := &recordingScorer{}
	p := NewPager(orderstore.NewMemory(), nil, WithPeerScorer(scorer))
	rec := recordOn(p)
	if _, err := p.Accept(context.Background(), Page{Provider: provider, Orders: orders}); err != nil {
		t.Fatal(err)
	}
	// The same page again does not move the cursor.
	_, err := p.Accept(context.Background(), Page{Provider: provider, Orders: orders})
	if !errors.Is(err, ErrCursorStalled) {
		t.Fatalf("same page twice: err = %v", err)
	}
	if c := rec.counts(); c != (counts{OutOfRange: 10, New: 10}) {
		t.Fatalf("counts %+v", c)
	}
	// Orders at or before the cursor may be an honest restart: not scored.
	if scorer.calls != 0 {
		t.Fatalf("stalled page moved scores: %v", scorer.scores)
	}
	// The stall reset the cursor, so a sync from the beginning works.
	if acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: orders}); err != nil || acc.Valid != 10 {
		t.Fatalf("restart after stall: %+v, %v", acc, err)
	}

	// A page-number cursor that does not move also stalls.
	p2 := NewPager(orderstore.NewMemory(), nil)
	first := hashOf(t, orders[4])
	if _, err := p2.Accept(context.Background(), Page{Provider: provider, Orders: orders[:5], Through: first, NextFromThrough: true}); err != nil {
		t.Fatal(err)
	}
	_, err = p2.Accept(context.Background(), Page{Provider: provider, Orders: orders[5:], Through: first, NextFromThrough: true})
	if !errors.Is(err, ErrCursorStalled) {
		t.Fatalf("bound at the cursor: err = %v", err)
	}

	// An empty page must say it is complete.
	if _, err := p.Accept(context.Background(), Page{Provider: "other"}); !errors.Is(err, ErrEmptyIncompletePage) {
		t.Fatalf("empty incomplete page: err = %v", err)
	}
}

func TestAcceptTracksProvidersSeparately(t *testing.T) {
	orders := sortedOrders(t, 0, 20)
	p := NewPager(orderstore.NewMemory(), nil)
	for _, who := range []peer.ID{"a", "b"} {
		acc, err := p.Accept(context.Background(), Page{Provider: who, Orders: orders[:10]})
		if err != nil || acc.Valid != 10 {
			t.Fatalf("%s: %+v, %v", who, acc, err)
		}
	}
}

func TestAcceptHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	store := orderstore.NewMemory()
	p := NewPager(store, nil)
	rec := recordOn(p)
	if _, err := p.Accept(ctx, Page{Provider: provider, Orders: sortedOrders(t, 0, 5)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if store.Len() != 0 {
		t.Fatal("stored orders after ctx ended")
	}
	// The page will come again on resuming; it is counted then.
	if c := rec.counts(); c != (counts{}) {
		t.Fatalf("counted a page given up on: %+v", c)
	}
}

// An order already held with the same signature was checked when it was
// stored: a re-sync does not pay for its signature again. The proof is an
// order held with a signature that would fail the check: it is accepted
// again, while the same order with another bad signature is refused.
func TestAcceptSkipsSignatureOfHeldOrders(t *testing.T) {
	orders := sortedOrders(t, 0, 3)
	held := copyOrder(orders[0])
	held.Signature[10] ^= 1 // no longer the maker's signature
	store := storeOf(t, []*zeroex.SignedOrder{held})

	p := NewPager(store, nil)
	resent := copyOrder(held)
	acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: []*zeroex.SignedOrder{resent, orders[1]}})
	if err != nil || acc.Valid != 2 || acc.New != 1 {
		t.Fatalf("held order with its own signature: %+v, %v; want 2 valid, 1 new", acc, err)
	}

	p = NewPager(store, nil)
	rec := recordOn(p)
	forged := copyOrder(held)
	forged.Signature[11] ^= 1
	acc, err = p.Accept(context.Background(), Page{Provider: provider, Orders: []*zeroex.SignedOrder{forged}})
	if err != nil || acc.Valid != 0 {
		t.Fatalf("held order with another signature: %+v, %v; want it refused", acc, err)
	}
	if c := rec.counts(); c.BadSignature != 1 {
		t.Fatalf("counts %+v; want one bad signature", c)
	}
}
