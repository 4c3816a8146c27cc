package reconcile

import (
	"context"
	"math/big"
	"testing"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// plainStore is a Store with no index of its own.
type plainStore struct{ orderstore.Store }

// TestFromIndex checks which sets are read from a store's index: a
// trivial filter's class, and every order when there is no filter (the
// classes combined, orders without a class too), so that a node without a
// filter flag does not scan its store every round.
func TestFromIndex(t *testing.T) {
	orders := storetest.Orders(0, 30)
	for i := 0; i < 10; i++ {
		orders[i].ChainID = big.NewInt(1) // another class
	}
	orders[10].ChainID = new(big.Int).Lsh(big.NewInt(1), 70) // no class
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	class, _ := orderstore.ClassOf(orders[20])
	trivial, err := orderfilter.New(int(class.ChainID), "{}", class.Exchange)
	if err != nil {
		t.Fatal(err)
	}
	picky, err := orderfilter.New(int(class.ChainID), `{"required":["makerAddress"]}`, class.Exchange)
	if err != nil {
		t.Fatal(err)
	}

	all, ok := fromIndex(store, nil, 64)
	if !ok || all.count != 30 || all.class != nil {
		t.Fatalf("no filter: ok %v, %d orders, class %v; want the index of all 30", ok, all.count, all.class)
	}
	checkIndexed(t, all, orders)
	one, ok := fromIndex(store, trivial, 64)
	if !ok || one.count != 19 || one.class == nil || *one.class != class {
		t.Fatalf("a trivial filter: ok %v, %d orders; want the index of its class, 19", ok, one.count)
	}
	checkIndexed(t, one, orders[11:])
	if _, ok := fromIndex(store, picky, 64); ok {
		t.Fatal("a filter with a schema was answered from the index")
	}
	if _, ok := fromIndex(plainStore{store}, nil, 64); ok {
		t.Fatal("a store without an index answered from one")
	}
}

// checkIndexed compares an indexed snapshot with one computed from the
// orders themselves.
func checkIndexed(t *testing.T, ix indexed, orders []*zeroex.SignedOrder) {
	t.Helper()
	items := make([]riblt.Item, len(orders))
	var d riblt.Digest
	for i, o := range orders {
		h, _ := o.ComputeOrderHash()
		items[i] = riblt.Item(h)
		d.AddItem(&items[i])
	}
	want := riblt.Encode(items, 0, len(ix.prefix))
	if ix.digest != d {
		t.Fatal("the index's digest differs from the orders'")
	}
	for i := range want {
		if ix.prefix[i] != want[i] {
			t.Fatalf("symbol %d differs from the orders'", i)
		}
	}
}
