// Package storetest is the conformance suite of orderstore.Store: what every
// store must do, run the same way against each implementation. A mesh node
// that brings its own store runs it from a test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) orderstore.Store { return newMyStore(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// NewStore returns an empty store for one test; the test's Cleanup closes
// it if it needs closing.
type NewStore func(t *testing.T) orderstore.Store

// Run runs every conformance test against stores from newStore. Each gets
// a fresh store.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, orderstore.Store)
	}{
		{"Empty", testEmpty},
		{"Ordering", testOrdering},
		{"AfterCursor", testAfterCursor},
		{"IdempotentAdds", testIdempotentAdds},
		{"RoundTrip", testRoundTrip},
		{"BadOrderAddsNothing", testBadOrderAddsNothing},
		{"Getter", testGetter}, // and ManyGetter
		{"ConcurrentReadersAndWriters", testConcurrent},
		{"ContextCancellation", testContextCancellation},
		{"Remover", testRemover},
		{"Admitter", testAdmitter},
		{"ChangeFeed", testChangeFeed},
		{"ChangeFeedSlowSubscriber", testSlowSubscriber},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Orders returns n distinct orders, differing by salt from first on. They
// are unsigned: a store does not check signatures.
func Orders(first, n int) []*zeroex.SignedOrder {
	orders := make([]*zeroex.SignedOrder, n)
	for i := range orders {
		k := first + i
		orders[i] = &zeroex.SignedOrder{
			Order: zeroex.Order{
				ChainID:               big.NewInt(1337),
				ExchangeAddress:       common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48"),
				MakerAddress:          common.BigToAddress(big.NewInt(int64(1 + k%7))),
				MakerAssetData:        []byte{0xf4, 0x72, 0x61, 0xb0, byte(k)},
				MakerFeeAssetData:     []byte{},
				MakerAssetAmount:      big.NewInt(int64(1000 + k)),
				MakerFee:              big.NewInt(0),
				TakerAssetData:        []byte{0xf4, 0x72, 0x61, 0xb0, byte(k >> 8)},
				TakerFeeAssetData:     []byte{},
				TakerAssetAmount:      big.NewInt(1),
				TakerFee:              big.NewInt(0),
				ExpirationTimeSeconds: big.NewInt(4102444800 + int64(k)),
				Salt:                  big.NewInt(int64(k)),
			},
			Signature: []byte{0x1b, byte(k), 0x03},
		}
	}
	return orders
}

func hashOf(t testing.TB, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func add(t testing.TB, s orderstore.Store, orders []*zeroex.SignedOrder) int {
	t.Helper()
	n, err := s.AddOrders(context.Background(), orders)
	if err != nil {
		t.Fatalf("AddOrders: %v", err)
	}
	return n
}

// sortedHashes returns the orders' hashes, ascending.
func sortedHashes(t testing.TB, orders []*zeroex.SignedOrder) []common.Hash {
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		hashes[i] = hashOf(t, o)
	}
	slices.SortFunc(hashes, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
	return hashes
}

// pageAll reads the whole store in pages of limit, checks each page
// ascends strictly past its cursor, and returns the hashes.
func pageAll(t testing.TB, s orderstore.Store, limit int) []common.Hash {
	t.Helper()
	var all []common.Hash
	var after common.Hash
	for {
		page, err := s.OrdersAfter(context.Background(), after, limit)
		if err != nil {
			t.Fatalf("OrdersAfter(%s, %d): %v", after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("OrdersAfter(_, %d) returned %d orders", limit, len(page))
		}
		for _, o := range page {
			h := hashOf(t, o)
			if bytes.Compare(h[:], after[:]) <= 0 {
				t.Fatalf("OrdersAfter: hash %s does not follow %s", h, after)
			}
			after = h
			all = append(all, h)
		}
		if len(page) < limit {
			return all
		}
	}
}

func testEmpty(t *testing.T, s orderstore.Store) {
	for _, limit := range []int{0, 1, 500} {
		page, err := s.OrdersAfter(context.Background(), common.Hash{}, limit)
		if err != nil || len(page) != 0 {
			t.Fatalf("empty store: OrdersAfter(0, %d) = %d orders, %v; want none", limit, len(page), err)
		}
	}
	if n := add(t, s, nil); n != 0 {
		t.Fatalf("AddOrders(nil) = %d", n)
	}
}

func testOrdering(t *testing.T, s orderstore.Store) {
	orders := Orders(0, 1000)
	shuffled := slices.Clone(orders)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	total := 0
	for start := 0; start < len(shuffled); start += 137 {
		total += add(t, s, shuffled[start:min(start+137, len(shuffled))])
	}
	if total != len(orders) {
		t.Fatalf("added %d new, want %d", total, len(orders))
	}
	want := sortedHashes(t, orders)
	for _, limit := range []int{1, 7, 500, 1000, 5000} {
		if got := pageAll(t, s, limit); !slices.Equal(got, want) {
			t.Fatalf("paging by %d: %d hashes, not the %d stored in ascending order", limit, len(got), len(want))
		}
	}
}

func testAfterCursor(t *testing.T, s orderstore.Store) {
	orders := Orders(0, 200)
	add(t, s, orders)
	hashes := sortedHashes(t, orders)
	ctx := context.Background()

	// A stored hash as the cursor: the page starts just past it.
	page, err := s.OrdersAfter(ctx, hashes[49], 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 10 || hashOf(t, page[0]) != hashes[50] || hashOf(t, page[9]) != hashes[59] {
		t.Fatalf("after stored hash 49: got %d orders, want hashes 50..59", len(page))
	}
	// A hash between two stored ones: the page starts at the next.
	between := hashes[99]
	if between[31] < 0xff {
		between[31]++
	}
	if between != hashes[99] && between != hashes[100] {
		page, err = s.OrdersAfter(ctx, between, 1)
		if err != nil || len(page) != 1 || hashOf(t, page[0]) != hashes[100] {
			t.Fatalf("after a hash between 99 and 100: %d orders, %v; want hash 100", len(page), err)
		}
	}
	// The last hash, and the largest possible one: nothing after.
	var top common.Hash
	for i := range top {
		top[i] = 0xff
	}
	for _, after := range []common.Hash{hashes[len(hashes)-1], top} {
		if page, err := s.OrdersAfter(ctx, after, 10); err != nil || len(page) != 0 {
			t.Fatalf("after %s: %d orders, %v; want none", after, len(page), err)
		}
	}
	// The tail: fewer than limit means the end.
	if page, err := s.OrdersAfter(ctx, hashes[194], 10); err != nil || len(page) != 5 {
		t.Fatalf("after hash 194: %d orders, %v; want the last 5", len(page), err)
	}
	// Limit 0 is an empty page; a negative limit is an error.
	if page, err := s.OrdersAfter(ctx, common.Hash{}, 0); err != nil || len(page) != 0 {
		t.Fatalf("limit 0: %d orders, %v", len(page), err)
	}
	if _, err := s.OrdersAfter(ctx, common.Hash{}, -1); err == nil {
		t.Fatal("limit -1: no error")
	}
	// A huge limit (a peer may ask for one) returns what is there.
	if page, err := s.OrdersAfter(ctx, common.Hash{}, 1<<40); err != nil || len(page) != len(orders) {
		t.Fatalf("limit 2^40: %d orders, %v; want %d", len(page), err, len(orders))
	}
}

func testIdempotentAdds(t *testing.T, s orderstore.Store) {
	orders := Orders(0, 100)
	if n := add(t, s, orders); n != 100 {
		t.Fatalf("first add: %d new, want 100", n)
	}
	if n := add(t, s, orders[40:60]); n != 0 {
		t.Fatalf("re-add: %d new, want 0", n)
	}
	// Equal orders in new values are duplicates too.
	if n := add(t, s, Orders(90, 20)); n != 10 {
		t.Fatalf("overlapping add: %d new, want 10", n)
	}
	// A duplicate inside one call counts once.
	fresh := Orders(500, 3)
	if n := add(t, s, []*zeroex.SignedOrder{fresh[0], fresh[1], fresh[0], fresh[2], fresh[1]}); n != 3 {
		t.Fatalf("add with repeats: %d new, want 3", n)
	}
	if got := pageAll(t, s, 1000); len(got) != 113 {
		t.Fatalf("store holds %d orders, want 113", len(got))
	}
}

func testRoundTrip(t *testing.T, s orderstore.Store) {
	orders := Orders(0, 50)
	// Zero-value fields and empty byte slices must come back as they went.
	orders[0].MakerAssetData = []byte{}
	orders[0].Signature = []byte{}
	orders[0].ResetHash()
	add(t, s, orders)
	page, err := s.OrdersAfter(context.Background(), common.Hash{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	byHash := make(map[common.Hash]*zeroex.SignedOrder)
	for _, o := range orders {
		byHash[hashOf(t, o)] = o
	}
	for _, got := range page {
		want := byHash[hashOf(t, got)]
		if want == nil {
			t.Fatalf("stored order %s was never added", hashOf(t, got))
		}
		gj, _ := got.MarshalJSON()
		wj, _ := want.MarshalJSON()
		if !bytes.Equal(gj, wj) {
			t.Fatalf("order %s comes back as\n%s\nwant\n%s", hashOf(t, got), gj, wj)
		}
	}
}

func testBadOrderAddsNothing(t *testing.T, s orderstore.Store) {
	orders := Orders(0, 10)
	withNil := append(slices.Clone(orders[:5]), nil)
	withNil = append(withNil, orders[5:]...)
	if _, err := s.AddOrders(context.Background(), withNil); err == nil {
		t.Fatal("AddOrders with a nil order: no error")
	}
	if got := pageAll(t, s, 100); len(got) != 0 {
		t.Fatalf("a failed AddOrders stored %d orders", len(got))
	}
}

func testGetter(t *testing.T, s orderstore.Store) {
	g, ok := s.(orderstore.Getter)
	if !ok {
		t.Skip("the store is no orderstore.Getter")
	}
	orders := Orders(0, 20)
	add(t, s, orders[:10])
	for i, o := range orders {
		got, ok := g.Get(hashOf(t, o))
		if ok != (i < 10) {
			t.Fatalf("Get(order %d) found %v, want %v", i, ok, i < 10)
		}
		if ok && (hashOf(t, got) != hashOf(t, o) || !bytes.Equal(got.Signature, o.Signature)) {
			t.Fatalf("Get(order %d) returned another order", i)
		}
	}
	many, ok := s.(orderstore.ManyGetter)
	if !ok {
		return
	}
	// Held and not held interleaved, and hashes asked for twice.
	var hashes []common.Hash
	for k := 0; k < 60; k++ {
		hashes = append(hashes, hashOf(t, orders[(k*7)%len(orders)]))
	}
	got, err := many.GetMany(context.Background(), hashes)
	if err != nil || len(got) != len(hashes) {
		t.Fatalf("GetMany: %d orders, %v; want %d", len(got), err, len(hashes))
	}
	for k, o := range got {
		i := (k * 7) % len(orders)
		if (o != nil) != (i < 10) || o != nil && hashOf(t, o) != hashes[k] {
			t.Fatalf("GetMany: hash %d (order %d) answered %v", k, i, o != nil)
		}
	}
}

// testConcurrent runs writers with overlapping orders against readers that
// page all the while: every page ascends, and the new counts add up to
// the distinct orders exactly.
func testConcurrent(t *testing.T, s orderstore.Store) {
	const writers, readers, perWriter, batch = 4, 2, 600, 50
	// Writer w adds orders [w*300, w*300+600): each overlaps the next by
	// half.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	news := make([]int, writers)
	errs := make(chan error, writers+readers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			orders := Orders(w*perWriter/2, perWriter)
			for start := 0; start < len(orders); start += batch {
				n, err := s.AddOrders(context.Background(), orders[start:start+batch])
				if err != nil {
					errs <- err
					return
				}
				news[w] += n
			}
		}()
	}
	var rg sync.WaitGroup
	for r := 0; r < readers; r++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for ctx.Err() == nil {
				var after common.Hash
				for {
					page, err := s.OrdersAfter(ctx, after, 64)
					if err != nil {
						if ctx.Err() == nil {
							errs <- err
						}
						return
					}
					for _, o := range page {
						h, err := o.ComputeOrderHash()
						if err != nil || bytes.Compare(h[:], after[:]) <= 0 {
							errs <- errors.New("a page under concurrent writes does not ascend")
							return
						}
						after = h
					}
					if len(page) < 64 {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	distinct := (writers + 1) * perWriter / 2
	total := 0
	for _, n := range news {
		total += n
	}
	if total != distinct {
		t.Fatalf("writers added %d new orders in all, want %d", total, distinct)
	}
	if got := pageAll(t, s, 500); len(got) != distinct {
		t.Fatalf("store holds %d orders, want %d", len(got), distinct)
	}
}

func testContextCancellation(t *testing.T, s orderstore.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.AddOrders(ctx, Orders(0, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("AddOrders with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.OrdersAfter(ctx, common.Hash{}, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("OrdersAfter with a cancelled context: %v, want context.Canceled", err)
	}
	if got := pageAll(t, s, 100); len(got) != 0 {
		t.Fatalf("AddOrders with a cancelled context stored %d orders", len(got))
	}
	// The store still works afterwards.
	if n := add(t, s, Orders(0, 10)); n != 10 {
		t.Fatalf("after cancellation: %d new, want 10", n)
	}
}

// benchOrders returns n orders with their hashes already computed, as a
// requester hands them over after validation.
func benchOrders(b *testing.B, first, n int) []*zeroex.SignedOrder {
	orders := Orders(first, n)
	for _, o := range orders {
		hashOf(b, o)
	}
	return orders
}

// BenchmarkAddOrders measures AddOrders of pages of 500 new orders into a
// store that grows to 50 000 orders, then starts over with a new store
// (made outside the timer). It reports ns/order.
func BenchmarkAddOrders(b *testing.B, newStore func(b *testing.B) orderstore.Store) {
	const page, pages = 500, 100
	orders := benchOrders(b, 0, page*pages)
	ctx := context.Background()
	var s orderstore.Store
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % pages
		if j == 0 {
			b.StopTimer()
			s = newStore(b)
			b.StartTimer()
		}
		if n, err := s.AddOrders(ctx, orders[j*page:(j+1)*page]); err != nil || n != page {
			b.Fatalf("AddOrders: %d new, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*page), "ns/order")
}

// BenchmarkOrdersAfter measures a provider's pages of 500 read in order
// from a store of 100 000 orders. It reports ns/order.
func BenchmarkOrdersAfter(b *testing.B, s orderstore.Store) {
	const size, page = 100_000, 500
	ctx := context.Background()
	orders := benchOrders(b, 0, size)
	for start := 0; start < size; start += 5000 {
		if _, err := s.AddOrders(ctx, orders[start:start+5000]); err != nil {
			b.Fatal(err)
		}
	}
	orders = nil
	b.ReportAllocs()
	b.ResetTimer()
	var after common.Hash
	read := 0
	for i := 0; i < b.N; i++ {
		got, err := s.OrdersAfter(ctx, after, page)
		if err != nil {
			b.Fatal(err)
		}
		read += len(got)
		if len(got) < page {
			after = common.Hash{}
			continue
		}
		after = hashOf(b, got[len(got)-1])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(read, 1)), "ns/order")
}
