package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
)

// A provider whose store moved answers a requester from symbol 0 of a new
// snapshot; when the requester's own store moved too, it reads its set
// again and decodes the symbols it has. Those must be the new snapshot's
// only: with the old one's kept in front of them, the decoding found an
// item twice, failed the sync and scored an honest provider (in netsim's
// defaults, 35-40 syncs a run, each after some 35 000 symbols).
func TestReconcileRestartDecodesTheNewSnapshotOnly(t *testing.T) {
	ctx := context.Background()
	orders := ordergen.Generate(ordergen.Options{Seed: 14, Count: 301})
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(ctx, orders[:300]); err != nil {
		t.Fatal(err)
	}
	s := New(store, nil)
	held := make([]riblt.Item, 300)
	for i, o := range orders[:300] {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		held[i] = riblt.Item(h)
	}
	extra := func(n int) []riblt.Item {
		out := make([]riblt.Item, n)
		for i := range out {
			rand.Read(out[i][:])
		}
		return out
	}
	provider := peer.ID("provider")
	answer := func(snapshot uint64, set []riblt.Item, from, to int) (*ordersync.Request, error) {
		t.Helper()
		var d riblt.Digest
		for i := range set {
			d.AddItem(&set[i])
		}
		raw, err := json.Marshal(&ResponseMetadata{Op: OpSketch, Snapshot: snapshot, Total: len(set), From: from,
			Digest: riblt.AppendDigest(nil, &d), Symbols: riblt.AppendSymbols(nil, riblt.Encode(set, from, to))})
		if err != nil {
			t.Fatal(err)
		}
		md, err := s.ParseResponseMetadata(raw)
		if err != nil {
			t.Fatal(err)
		}
		next, _, err := s.HandleOrderSyncResponse(ctx, &ordersync.Response{ProviderID: provider, Metadata: md})
		return next, err
	}
	// Snapshot 1 differs by more than its first symbols decode.
	next, err := answer(1, append(append([]riblt.Item{}, held...), extra(500)...), 0, 100)
	if err != nil || next == nil || next.Metadata.(*RequestMetadata).Op != OpSketch {
		t.Fatalf("first symbols: %v, next %+v", err, next)
	}
	// Both stores move; snapshot 2 answers from 0, past the requester's
	// index, so that it reads its own set again.
	if _, err := store.AddOrders(ctx, orders[300:]); err != nil {
		t.Fatal(err)
	}
	set2 := append(append([]riblt.Item{}, held...), extra(40)...)
	next, err = answer(2, set2, 0, riblt.DefaultIndexSymbols+200)
	if err != nil {
		t.Fatalf("symbols of the new snapshot: %v", err)
	}
	if next == nil || next.Metadata.(*RequestMetadata).Op != OpFetch {
		t.Fatalf("after decoding the new snapshot: next request %+v, want a fetch", next)
	}
	if got := len(next.Metadata.(*RequestMetadata).Hashes) / 32; got != 40 {
		t.Errorf("fetching %d orders, want the 40 the provider holds", got)
	}
}
