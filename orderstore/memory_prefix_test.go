package orderstore

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// TestMemorySharedPrefixes gives orders hashes that share their first 8
// bytes, in runs, and checks every lookup, page and removal against a
// sorted list: the B-tree compares items by those 8 bytes and only the
// items of one prefix by their whole hashes.
func TestMemorySharedPrefixes(t *testing.T) {
	orders := testOrders(0, 60)
	hashes := make(map[*zeroex.SignedOrder]common.Hash, len(orders))
	var sorted []common.Hash
	for i, o := range orders {
		var h common.Hash
		h[0], h[7] = 1, byte(i/10) // six prefixes, ten orders each
		h[8] = byte(i % 10 * 20)
		h[31] = byte(i)
		hashes[o] = h
		sorted = append(sorted, h)
	}
	slices.SortFunc(sorted, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
	old := storedHash
	storedHash = func(o *zeroex.SignedOrder) (common.Hash, error) { return hashes[o], nil }
	t.Cleanup(func() { storedHash = old })

	ctx := context.Background()
	m := NewMemory()
	// Backwards, and then all again: duplicates of a prefix's items must
	// be found as such.
	rev := slices.Clone(orders)
	slices.Reverse(rev)
	if n := mustAdd(t, m, rev); n != len(orders) {
		t.Fatalf("added %d of %d", n, len(orders))
	}
	if n := mustAdd(t, m, orders); n != 0 {
		t.Fatalf("added %d duplicates", n)
	}
	for _, o := range orders {
		if got, ok := m.Get(hashes[o]); !ok || got != o {
			t.Fatalf("Get(%x): %v, %v", hashes[o], got != nil, ok)
		}
	}
	absent := sorted[3]
	absent[9] = 1 // same prefix as stored ones, no such order
	if m.Has(absent) {
		t.Fatalf("Has(%x) of an absent hash", absent)
	}

	// Pages after every stored hash, and after hashes between them.
	var got []common.Hash
	check := func(after common.Hash, want []common.Hash) {
		t.Helper()
		page, err := m.OrdersAfter(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, o := range page {
			got = append(got, hashes[o])
		}
		if len(want) > 7 {
			want = want[:7]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("OrdersAfter(%x): %x, want %x", after, got, want)
		}
	}
	check(common.Hash{}, sorted)
	for i, h := range sorted {
		check(h, sorted[i+1:])
		between := h
		between[30] = 1 // after h, before the next of its prefix
		check(between, sorted[i+1:])
	}
	var each []common.Hash
	if err := m.Each(ctx, func(h common.Hash, o *zeroex.SignedOrder) bool {
		if hashes[o] != h {
			t.Fatalf("Each: order of %x given as %x", hashes[o], h)
		}
		each = append(each, h)
		return true
	}); err != nil || !slices.Equal(each, sorted) {
		t.Fatalf("Each: %v, %d hashes in another order", err, len(each))
	}

	// Remove every other order of each prefix.
	var removed, kept []common.Hash
	for i, h := range sorted {
		if i%2 == 0 {
			removed = append(removed, h)
		} else {
			kept = append(kept, h)
		}
	}
	if n, err := m.Remove(ctx, append(removed, absent)...); err != nil || n != len(removed) {
		t.Fatalf("Remove: %d, %v; want %d", n, err, len(removed))
	}
	for _, h := range removed {
		if m.Has(h) {
			t.Fatalf("removed %x still held", h)
		}
	}
	check(common.Hash{}, kept)
	for i, h := range kept {
		check(h, kept[i+1:])
	}
}
