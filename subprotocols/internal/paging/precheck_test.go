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

// countingStore is a Memory that counts the hashes GetMany is asked about.
type countingStore struct {
	*orderstore.Memory
	asked int
}

func (c *countingStore) GetMany(ctx context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error) {
	c.asked += len(hashes)
	return c.Memory.GetMany(ctx, hashes)
}

// Accept does not ask the store again about the orders Precheck found
// absent and checked, and still tells new orders from those held already.
func TestAcceptAfterPrecheckAsksTheStoreOnce(t *testing.T) {
	orders := sortedOrders(t, 0, 60)
	held := copyOrders(orders[:20])
	store := &countingStore{Memory: orderstore.NewMemory()}
	if _, err := store.AddOrders(context.Background(), held); err != nil {
		t.Fatal(err)
	}
	page := copyOrders(orders)
	p := NewPager(store, nil)
	rec := recordOn(p)
	p.Precheck(context.Background(), page)
	if store.asked != len(page) {
		t.Fatalf("Precheck asked about %d hashes, want %d", store.asked, len(page))
	}
	acc, err := p.Accept(context.Background(), Page{Provider: provider, Orders: page, Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	// Accept asks again only about the 20 held orders, whose signatures
	// were not checked.
	if want := len(page) + 20; store.asked != want {
		t.Fatalf("Precheck and Accept asked about %d hashes, want %d", store.asked, want)
	}
	if acc.Valid != 60 || acc.New != 40 || rec.counts() != (counts{New: 40}) {
		t.Fatalf("valid %d, new %d, counts %+v; want 60, 40", acc.Valid, acc.New, rec.counts())
	}
}

// copyOrders copies orders (copyOrder) so that none remembers a checked
// signature.
func copyOrders(orders []*zeroex.SignedOrder) []*zeroex.SignedOrder {
	out := make([]*zeroex.SignedOrder, len(orders))
	for i, o := range orders {
		out[i] = copyOrder(o)
	}
	return out
}
