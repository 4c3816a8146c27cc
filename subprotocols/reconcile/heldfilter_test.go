package reconcile

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// checkHolds checks that holds holds each of hashes and at most one of
// 100 000 others.
func checkHolds(t *testing.T, holds func(*riblt.Item) bool, hashes []common.Hash) {
	t.Helper()
	for i := range hashes {
		x := riblt.Item(hashes[i])
		if !holds(&x) {
			t.Fatalf("hash %d of the %d not held", i, len(hashes))
		}
	}
	others := randomHashes(100_000, 2)
	positives := 0
	for i := range others {
		x := riblt.Item(others[i])
		if holds(&x) {
			positives++
		}
	}
	t.Logf("%d false positives of %d", positives, len(others))
	if positives > 1 {
		t.Errorf("%d false positives of %d", positives, len(others))
	}
}

func randomHashes(n int, seed uint64) []common.Hash {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]common.Hash, n)
	for i := range out {
		for j := 0; j < 32; j += 8 {
			v := r.Uint64()
			for k := range 8 {
				out[i][j+k] = byte(v >> (8 * k))
			}
		}
	}
	return out
}

// A held filter holds every hash it was made of, and next to none of the
// others (about 1 in 220 million); it is nil when there is nothing to
// filter or more than MaxHeldFilter holds.
func TestHeldFilterHoldsItsHashesAndFewOthers(t *testing.T) {
	hashes := randomHashes(20_000, 1)
	f := newHeldFilter(hashes, nil)
	if len(f.bits) != 20_000*heldFilterBitsPerItem/8 {
		t.Fatalf("%d bytes for %d hashes", len(f.bits), len(hashes))
	}
	checkHolds(t, f.holds, hashes)
	if newHeldFilter(nil, nil) != nil || newHeldFilter(randomHashes(MaxSymbols+1, 3), nil) != nil {
		t.Error("a filter of no hashes, or of more than MaxHeldFilter holds")
	}
}

// A provider lists, of its snapshot, exactly the hashes a held filter
// does not hold; a filter of every bit lists nothing, and ends.
func TestServeListFilteredByHeld(t *testing.T) {
	orders, store := generatedStore(t, 5, 3000)
	s := New(store, nil)
	provider := make([]common.Hash, len(orders))
	for i, o := range orders {
		provider[i], _ = o.ComputeOrderHash()
	}
	// The requester holds every other order of the provider's, and 1 000
	// of its own.
	var held []common.Hash
	for i := 0; i < len(provider); i += 2 {
		held = append(held, provider[i])
	}
	held = append(held, randomHashes(1000, 4)...)
	f := newHeldFilter(held, nil)
	list := func(bits []byte) *ResponseMetadata {
		t.Helper()
		md := &RequestMetadata{Op: OpSketch, List: true, HeldFilter: bits, HeldFilterPositions: f.positions, HeldFilterSalt: f.salt}
		if err := md.check(); err != nil {
			t.Fatal(err)
		}
		res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{RequesterID: "requester", Metadata: md})
		if err != nil {
			t.Fatal(err)
		}
		out := res.Metadata.(*ResponseMetadata)
		if out.Op != OpList || !out.End || out.Total != len(orders) {
			t.Fatalf("answer %s, end %v, total %d", out.Op, out.End, out.Total)
		}
		return out
	}
	out := list(f.bits)
	want := 0
	for i := range provider {
		x := riblt.Item(provider[i])
		if !f.holds(&x) {
			want++
			if !bytes.Contains(out.Hashes, provider[i][:]) {
				t.Fatalf("hash %d, not held, is not listed", i)
			}
		}
	}
	if len(out.Hashes) != 32*want || want < len(provider)/2-1 {
		t.Fatalf("%d hashes listed, want %d of %d", len(out.Hashes)/32, want, len(provider))
	}
	if out := list(bytes.Repeat([]byte{0xff}, len(f.bits))); len(out.Hashes) != 0 {
		t.Fatalf("%d hashes listed past a filter of every bit", len(out.Hashes)/32)
	}
	// A filter is for a list, within its bounds.
	for _, md := range []*RequestMetadata{
		{Op: OpSketch, HeldFilter: f.bits, HeldFilterPositions: 4},
		{Op: OpSketch, List: true, HeldFilter: make([]byte, MaxHeldFilter+1), HeldFilterPositions: 4},
		{Op: OpSketch, List: true, HeldFilter: f.bits, HeldFilterPositions: MaxHeldFilterPositions + 1},
		{Op: OpSketch, List: true, HeldFilter: f.bits},
	} {
		if md.check() == nil {
			t.Errorf("a held filter of %d bytes, %d positions, list %v passes", len(md.HeldFilter), md.HeldFilterPositions, md.List)
		}
	}
}

// A held filter that hides every hash gets an empty answer, but the hashes
// the provider tested are charged to the requester's answer budget
// (heldScanBytes each), so that it cannot have whole sets tested for free.
func TestHeldFilterScanIsCharged(t *testing.T) {
	orders, store := generatedStore(t, 6, 2000)
	const burst = 1 << 20
	s := New(store, nil, WithAnswerRate(1, burst)) // a byte a second: nothing refills meanwhile
	md := &RequestMetadata{Op: OpSketch, List: true, HeldFilter: bytes.Repeat([]byte{0xff}, 4096), HeldFilterPositions: 8, HeldFilterSalt: 1}
	res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{RequesterID: "requester", Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	if out := res.Metadata.(*ResponseMetadata); out.Op != OpList || len(out.Hashes) != 0 || !out.End {
		t.Fatalf("answer %s with %d hashes, end %v; want an empty list that ends", out.Op, len(out.Hashes)/32, out.End)
	}
	spent := burst - s.budgets.get("requester").Tokens()
	if want := float64(len(orders) * heldScanBytes); spent < want-1 { // less what a second refills
		t.Errorf("the requester's budget spent %.0f bytes on a scan of %d hashes, want at least %.0f", spent, len(orders), want)
	}
}

// A first request's Most caps the first answer below the provider's own
// choice, and no more: a small difference still gets that. It caps an
// answer from a new snapshot too, but not more symbols of the same.
func TestFirstAnswerAtMost(t *testing.T) {
	_, store := generatedStore(t, 6, 2000)
	s := New(store, nil)
	for _, tc := range []struct{ held, most, want int }{
		{1000, 0, firstBatch(1000, 2000)},
		{1000, firstAnswerMost, firstAnswerMost},
		{1990, firstAnswerMost, firstBatch(1990, 2000)},
	} {
		md := &RequestMetadata{Op: OpSketch, Held: tc.held, Most: tc.most}
		res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{RequesterID: "requester", Metadata: md})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.Metadata.(*ResponseMetadata).Symbols) / riblt.SymbolSize; n != tc.want {
			t.Errorf("held %d, most %d: %d symbols, want %d", tc.held, tc.most, n, tc.want)
		}
	}
	// A request for more symbols of a snapshot that is gone gets at most
	// Most from symbol 0 of a new one; of one that is there, Count.
	for _, tc := range []struct {
		snapshot uint64
		want     int
	}{{999, firstAnswerMost}, {0, 1000}} {
		snapshot := tc.snapshot
		if snapshot == 0 {
			res, _ := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{RequesterID: "requester", Metadata: &RequestMetadata{Op: OpSketch, Held: 1990}})
			snapshot = res.Metadata.(*ResponseMetadata).Snapshot
		}
		md := &RequestMetadata{Op: OpSketch, Snapshot: snapshot, From: 20, Count: 1000, Most: firstAnswerMost}
		res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{RequesterID: "requester", Metadata: md})
		if err != nil {
			t.Fatal(err)
		}
		out := res.Metadata.(*ResponseMetadata)
		if n := len(out.Symbols) / riblt.SymbolSize; n != tc.want || (out.From == 0) != (tc.snapshot != 0) {
			t.Errorf("snapshot %d: %d symbols from %d, want %d", tc.snapshot, n, out.From, tc.want)
		}
	}
}

// listPlan takes symbols for a small difference, the whole list when the
// requester lacks most of it, and a filtered list when the requester
// holds much of the provider's set or much of its own.
func TestListPlan(t *testing.T) {
	for _, tc := range []struct {
		name                                 string
		received, estimate, net, held, total int
		current                              bool
		want                                 int
	}{
		{"small difference", 128, 60, 0, 10_000, 10_000, false, listNone},
		{"too few symbols to judge", 40, 6000, 0, 3600, 3600, false, listNone},
		{"lacks almost all of it", 128, 7000, 0, 3600, 3600, false, listWhole},
		{"ahead of the provider", 128, 14_000, -6000, 37_000, 31_000, false, listFiltered},
		{"holds much of it", 128, 10_000, 2000, 13_800, 15_800, false, listFiltered},
		{"a set too large to list", 128, 200_000, 0, 1000, MaxSymbols + 1, false, listNone},
		// Fetching 1 500 by position instead of by hash, and a held set
		// instead of a held filter, tip the balance.
		{"3 000 differences in 30 000, an old provider", 128, 3000, 0, 30_000, 30_000, false, listNone},
		{"3 000 differences in 30 000, a current provider", 128, 3000, 0, 30_000, 30_000, true, listFiltered},
	} {
		if got := listPlan(tc.received, tc.estimate, tc.net, tc.held, tc.total, tc.current); got != tc.want {
			t.Errorf("%s: plan %d, want %d", tc.name, got, tc.want)
		}
	}
}

// BenchmarkHeldFilterWorstScan is what the largest request a provider takes
// costs it to test: every hash of the largest listed set (MaxSymbols)
// against the largest filter with every bit set, so that all positions of
// every hash are tested and nothing is listed.
func BenchmarkHeldFilterWorstScan(b *testing.B) {
	hashes := randomHashes(MaxSymbols, 4)
	items := make([]riblt.Item, len(hashes))
	for i := range hashes {
		items[i] = riblt.Item(hashes[i])
	}
	f := &heldFilter{bits: bytes.Repeat([]byte{0xff}, MaxHeldFilter), positions: MaxHeldFilterPositions, salt: 7}
	b.ResetTimer()
	for b.Loop() {
		for i := range items {
			if !f.holds(&items[i]) {
				b.Fatal("an all-ones filter lets a hash through")
			}
		}
	}
}

// generatedStore is a memory store holding n generated orders of seed.
func generatedStore(t *testing.T, seed int64, n int) ([]*zeroex.SignedOrder, *orderstore.Memory) {
	t.Helper()
	orders := ordergen.Generate(ordergen.Options{Seed: seed, Count: n})
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	return orders, store
}
