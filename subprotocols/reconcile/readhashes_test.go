package reconcile

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
)

// A requester that needs more symbols than the store's index gives makes
// the provider read its indexed set's hashes. That read runs no filter,
// and is bounded by the order count alone: under a time bound, a provider
// slowed by a loaded machine ran out of time and paged its whole book
// instead (in netsim, a second copy of everything for a quarter of the
// nodes at a load of 30).
func TestIndexedSnapshotReadIgnoresTheTimeBudget(t *testing.T) {
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), ordergen.Generate(ordergen.Options{Seed: 12, Count: 1500})); err != nil {
		t.Fatal(err)
	}
	s := New(store, nil, WithMaxScan(DefaultMaxScan, time.Nanosecond))
	want := riblt.DefaultIndexSymbols + 100
	raw, _ := json.Marshal(&RequestMetadata{Op: OpSketch, Held: 1400, Count: want})
	parsed, err := s.ParseRequestMetadata(raw)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: parsed})
	if err != nil {
		t.Fatal(err)
	}
	md := res.Metadata.(*ResponseMetadata)
	if md.Op != OpSketch || len(md.Symbols)/riblt.SymbolSize != want {
		t.Fatalf("answered %q with %d orders and %d symbols, want %d symbols", md.Op, len(res.Orders), len(md.Symbols)/riblt.SymbolSize, want)
	}
}
