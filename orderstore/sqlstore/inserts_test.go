package sqlstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/storetest"
)

// The writer keeps the INSERTs of a few short sizes prepared and lets the
// oldest go: calls of more sizes than it keeps, some of them again after
// their statement went, each store what they hold, once.
func TestSQLiteInsertsOfManySizes(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	sizes := []int{1, 116, 2, 3, 5, 8, 116, 1, 129, 300, 13, 116}
	total := 0
	for _, n := range sizes {
		total += n
	}
	orders := storetest.Orders(0, total)
	first := 0
	for _, n := range sizes {
		chunk := orders[first : first+n]
		if added, err := s.AddOrders(ctx, chunk); err != nil || added != n {
			t.Fatalf("AddOrders of %d new orders: %d new, %v", n, added, err)
		}
		// Again, with some of the calls before: all held.
		if added, err := s.AddOrders(ctx, orders[first/2:first+n]); err != nil || added != 0 {
			t.Fatalf("AddOrders of %d held orders: %d new, %v", first/2+n, added, err)
		}
		first += n
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("the store holds %d orders, want the %d added", len(got), len(want))
	}
}
