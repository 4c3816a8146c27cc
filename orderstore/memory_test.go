package orderstore

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// testOrders returns n distinct unsigned orders (the store does not check
// signatures) that differ by salt, starting at salt first.
func testOrders(first, n int) []*zeroex.SignedOrder {
	orders := make([]*zeroex.SignedOrder, n)
	for i := range orders {
		orders[i] = &zeroex.SignedOrder{
			Order: zeroex.Order{
				ChainID:               big.NewInt(1337),
				ExchangeAddress:       common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48"),
				MakerAssetData:        []byte{},
				MakerFeeAssetData:     []byte{},
				MakerAssetAmount:      big.NewInt(1),
				MakerFee:              big.NewInt(0),
				TakerAssetData:        []byte{},
				TakerFeeAssetData:     []byte{},
				TakerAssetAmount:      big.NewInt(1),
				TakerFee:              big.NewInt(0),
				ExpirationTimeSeconds: big.NewInt(1 << 40),
				Salt:                  big.NewInt(int64(first + i)),
			},
			Signature: []byte{},
		}
	}
	return orders
}

func mustHash(t testing.TB, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustAdd(t testing.TB, m *Memory, orders []*zeroex.SignedOrder) int {
	t.Helper()
	n, err := m.AddOrders(context.Background(), orders)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pageAll walks the whole store with OrdersAfter pages of the given size
// and returns the hashes seen, checking they ascend strictly.
func pageAll(t testing.TB, m *Memory, limit int) []common.Hash {
	t.Helper()
	var hashes []common.Hash
	var after common.Hash
	for {
		page, err := m.OrdersAfter(context.Background(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			h := mustHash(t, o)
			if bytes.Compare(h[:], after[:]) <= 0 {
				t.Fatalf("hash %s not after cursor %s", h, after)
			}
			after = h
			hashes = append(hashes, h)
		}
		if len(page) < limit {
			return hashes
		}
	}
}

func TestMemoryAddOrdersIsIdempotent(t *testing.T) {
	m := NewMemory()
	orders := testOrders(0, 100)
	if n := mustAdd(t, m, orders); n != 100 {
		t.Fatalf("first add: %d new, want 100", n)
	}
	if n := mustAdd(t, m, orders[40:60]); n != 0 {
		t.Fatalf("re-add: %d new, want 0", n)
	}
	// Same hashes, different pointers: still duplicates.
	if n := mustAdd(t, m, testOrders(90, 20)); n != 10 {
		t.Fatalf("overlapping add: %d new, want 10", n)
	}
	if m.Len() != 110 {
		t.Fatalf("Len = %d, want 110", m.Len())
	}
	// The first stored copy stays.
	got, ok := m.Get(mustHash(t, orders[95]))
	if !ok || got != orders[95] {
		t.Fatalf("Get returned %p, %v; want the first copy %p", got, ok, orders[95])
	}
}

func TestMemoryAddOrdersRejectsBadOrdersAtomically(t *testing.T) {
	m := NewMemory()
	bad := testOrders(0, 3)
	bad[2].Salt = nil
	if _, err := m.AddOrders(context.Background(), bad); err == nil {
		t.Fatal("AddOrders accepted an order without a salt")
	}
	withNil := append(testOrders(10, 2), nil)
	if _, err := m.AddOrders(context.Background(), withNil); err == nil {
		t.Fatal("AddOrders accepted a nil order")
	}
	if m.Len() != 0 {
		t.Fatalf("failed calls stored %d orders", m.Len())
	}
}

func TestMemoryOrdersAfterPagesInHashOrder(t *testing.T) {
	m := NewMemory()
	orders := testOrders(0, 1000)
	mustAdd(t, m, orders)
	for _, limit := range []int{1, 7, 500, 1000, 5000} {
		if got := pageAll(t, m, limit); len(got) != 1000 {
			t.Fatalf("limit %d: paged %d orders, want 1000", limit, len(got))
		}
	}

	// "After" is strict: the cursor's own order is not returned.
	all := pageAll(t, m, 1000)
	page, err := m.OrdersAfter(context.Background(), all[10], 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || mustHash(t, page[0]) != all[11] {
		t.Fatalf("OrdersAfter(all[10], 1) did not return all[11]")
	}
	// A cursor between stored hashes starts at the next one.
	between := all[20]
	between[31]++
	page, _ = m.OrdersAfter(context.Background(), between, 1)
	if len(page) != 1 || mustHash(t, page[0]) != all[21] {
		t.Fatalf("OrdersAfter(between) did not return all[21]")
	}
	last := all[len(all)-1]
	if page, _ := m.OrdersAfter(context.Background(), last, 10); len(page) != 0 {
		t.Fatalf("OrdersAfter(last) returned %d orders", len(page))
	}
}

func TestMemoryOrdersAfterBadInput(t *testing.T) {
	m := NewMemory()
	mustAdd(t, m, testOrders(0, 10))
	if page, err := m.OrdersAfter(context.Background(), common.Hash{}, 0); err != nil || len(page) != 0 {
		t.Fatalf("limit 0: %d orders, %v", len(page), err)
	}
	if _, err := m.OrdersAfter(context.Background(), common.Hash{}, -1); err == nil {
		t.Fatal("negative limit accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.OrdersAfter(ctx, common.Hash{}, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
	// A huge limit from a peer does not size the result.
	page, err := m.OrdersAfter(context.Background(), common.Hash{}, 1<<62)
	if err != nil || len(page) != 10 || cap(page) != 10 {
		t.Fatalf("huge limit: len %d cap %d err %v", len(page), cap(page), err)
	}
}

func TestMemoryRemove(t *testing.T) {
	m := NewMemory()
	orders := testOrders(0, 50)
	mustAdd(t, m, orders)
	gone := []common.Hash{mustHash(t, orders[3]), mustHash(t, orders[4]), {0x42}}
	n, err := m.Remove(context.Background(), gone...)
	if err != nil || n != 2 {
		t.Fatalf("Remove = %d, %v; want 2", n, err)
	}
	if m.Has(gone[0]) || m.Has(gone[1]) || !m.Has(mustHash(t, orders[5])) {
		t.Fatal("Has disagrees with Remove")
	}
	if got := pageAll(t, m, 8); len(got) != 48 {
		t.Fatalf("paged %d after removal, want 48", len(got))
	}
	// Removed orders can come back.
	if n := mustAdd(t, m, orders[3:5]); n != 2 {
		t.Fatalf("re-adding removed orders: %d new", n)
	}
}

func TestMemoryRangeAndEach(t *testing.T) {
	m := NewMemory()
	mustAdd(t, m, testOrders(0, 3*rangeBatch+5))
	want := pageAll(t, m, 100)

	var got []common.Hash
	err := m.Each(context.Background(), func(h common.Hash, o *zeroex.SignedOrder) bool {
		if mustHash(t, o) != h {
			t.Fatalf("Each passed hash %s with another order", h)
		}
		got = append(got, h)
		return true
	})
	if err != nil || len(got) != len(want) {
		t.Fatalf("Each visited %d (err %v), want %d", len(got), err, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Each order differs at %d", i)
		}
	}

	// Range starts strictly after its cursor and stops when fn says so.
	got = got[:0]
	err = m.Range(context.Background(), want[rangeBatch], func(h common.Hash, _ *zeroex.SignedOrder) bool {
		got = append(got, h)
		return len(got) < rangeBatch+3
	})
	if err != nil || len(got) != rangeBatch+3 || got[0] != want[rangeBatch+1] {
		t.Fatalf("Range: %d visited, err %v", len(got), err)
	}

	// fn may write to the store: the lock is not held while it runs.
	removed := 0
	err = m.Each(context.Background(), func(h common.Hash, _ *zeroex.SignedOrder) bool {
		n, err := m.Remove(context.Background(), h)
		removed += n
		return err == nil
	})
	if err != nil || removed != len(want) || m.Len() != 0 {
		t.Fatalf("removing during Each: removed %d of %d, Len %d, err %v", removed, len(want), m.Len(), err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Each(ctx, func(common.Hash, *zeroex.SignedOrder) bool { return true }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Each with cancelled ctx: %v", err)
	}
}

func TestMemoryConcurrentAddAndRead(t *testing.T) {
	m := NewMemory()
	const writers, perWriter = 4, 500
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		orders := testOrders(w*perWriter, perWriter)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(orders); i += 50 {
				if _, err := m.AddOrders(context.Background(), orders[i:i+50]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				pageAll(t, m, 64) // checks ascending order under writes
				m.Has(common.Hash{1})
				m.Len()
			}
		}()
	}
	wg.Wait()
	if m.Len() != writers*perWriter {
		t.Fatalf("Len = %d, want %d", m.Len(), writers*perWriter)
	}
}
