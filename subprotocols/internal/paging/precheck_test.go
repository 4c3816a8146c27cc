package paging

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// Precheck judges nothing, stores nothing and moves no cursor; Accept
// after it finds what it finds without it, bad signatures included.
func TestPrecheckChangesOnlyWhatAcceptRechecks(t *testing.T) {
	orders := sortedOrders(t, 0, 40)
	page := make([]*zeroex.SignedOrder, len(orders))
	copy(page, orders)
	page[1] = nil
	page[5] = copyOrder(orders[5])
	page[5].Signature[10] ^= 1
	page[8] = copyOrder(orders[8])
	page[8].Signature[zeroex.ECSignatureLength-1] = byte(zeroex.SignatureTypeWallet)

	scorer := &recordingScorer{}
	store := orderstore.NewMemory()
	p := NewPager(store, nil, WithPeerScorer(scorer))
	rec := recordOn(p)
	p.Precheck(context.Background(), page)
	if store.Len() != 0 || rec.counts() != (counts{}) || scorer.calls != 0 || p.Cursor(provider) != (common.Hash{}) {
		t.Fatalf("after Precheck: stored %d, counts %+v, scores %v", store.Len(), rec.counts(), scorer.scores)
	}
	acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: page})
	if err != nil {
		t.Fatal(err)
	}
	if want := (counts{Malformed: 1, BadSignature: 1, UnverifiableSignature: 1, New: 37}); rec.counts() != want || acc.Valid != 37 {
		t.Fatalf("Accept after Precheck: valid %d, counts %+v, want %+v", acc.Valid, rec.counts(), want)
	}
	if store.Has(hashOf(t, page[5])) {
		t.Fatal("the order with a bad signature was stored")
	}
}
