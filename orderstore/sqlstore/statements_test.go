package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

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

// GetMany keeps a few query sizes prepared; queries of more sizes than
// that, at once, each still find what they ask for while their statements
// leave the cache under the others.
func TestSQLiteLookupsOfManySizesAtOnce(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	orders := storetest.Orders(0, 40)
	if _, err := s.AddOrders(ctx, orders[:20]); err != nil {
		t.Fatal(err)
	}
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		hashes[i] = hashOf(t, o)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				first := (g + round) % 20
				n := 1 + (g*7+round)%20 // held: first..19, the rest not
				got, err := s.GetMany(ctx, hashes[first:first+n])
				if err != nil {
					errs <- err
					return
				}
				for i, o := range got {
					if held := first+i < 20; held != (o != nil) || held && !o.Equal(orders[first+i]) {
						errs <- fmt.Errorf("GetMany of %d from %d: order %d is %v, want held %v", n, first, first+i, o, held)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
