package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
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

// A call whose orders the store holds in part inserts the others: the
// writer reads back which by rowid (the INSERT returns nothing), and the
// count and the change feed name exactly the new orders, across chunks.
func TestSQLiteInsertOfHeldAndNewOrders(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	orders := storetest.Orders(0, 600)
	var held, fresh []common.Hash
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := s.AddOrders(ctx, orders[i:i+1]); err != nil {
				t.Fatal(err)
			}
			held = append(held, h)
			continue
		}
		fresh = append(fresh, h)
	}
	sub := s.Subscribe(len(orders))
	defer sub.Close()
	if added, err := s.AddOrders(ctx, orders); err != nil || added != len(fresh) {
		t.Fatalf("AddOrders of %d held and %d new orders: %d new, %v", len(held), len(fresh), added, err)
	}
	var got []common.Hash
	for range fresh {
		c := <-sub.Changes()
		if c.Kind != orderstore.ChangeAdded {
			t.Fatalf("change %v of kind %v", c.Hash, c.Kind)
		}
		got = append(got, c.Hash)
	}
	slices.SortFunc(got, func(a, b common.Hash) int { return a.Cmp(b) })
	slices.SortFunc(fresh, func(a, b common.Hash) int { return a.Cmp(b) })
	if !slices.Equal(got, fresh) {
		t.Fatalf("the feed reported %d added orders, not the %d new ones", len(got), len(fresh))
	}
	select {
	case c := <-sub.Changes():
		t.Fatalf("a change more: %v", c.Hash)
	default:
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("the store holds %d orders, want %d", len(got), len(want))
	}
}
