package reconcile_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// symbolsFrom asks, on w, for count symbols of snapshot sn from from on,
// and returns the snapshot and first index the provider answered with.
func symbolsFrom(t *testing.T, w *nodetest.WireStream, sn uint64, from, count int) (uint64, int) {
	t.Helper()
	a, _ := ask(t, w, fmt.Sprintf(`{"op":"sketch","orderfilter":null,"snapshot":%d,"from":%d,"count":%d}`, sn, from, count))
	if a.Metadata.Op != reconcile.OpSketch {
		t.Fatalf("symbols of snapshot %d from %d: answered %q", sn, from, a.Metadata.Op)
	}
	return a.Metadata.Snapshot, a.Metadata.From
}

// A provider's snapshots are shared by its requesters. In a network taking
// in a bulk of orders every provider's store moves all the time, and each
// move makes the next requester's sync take a new snapshot. One that a
// sync still reads from must stay, or that sync starts over, and after a
// few restarts pages the provider's whole book (in netsim, twice the bytes
// a node lacked): the cache drops the snapshot used longest ago, and an
// indexed snapshot that one requester cannot extend stays for the others,
// who read its prefix.
func TestReconcileSnapshotStaysWhileRead(t *testing.T) {
	ctx := context.Background()
	orders := nodetest.Orders(220)
	hosts := testnet.New(t, 3)
	provider := nodetest.StartNode(t, hosts[0], orders[:200], nil, all3)
	reader := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
	first, _ := ask(t, reader, `{"op":"sketch","orderfilter":null,"held":190}`)
	sn, read := first.Metadata.Snapshot, len(first.Metadata.Symbols)/riblt.SymbolSize

	// Newer syncs take a snapshot each, more than the cache holds, while
	// the reader goes on reading its own.
	for i := range 12 {
		if _, err := provider.Store.AddOrders(ctx, orders[200+i:201+i]); err != nil {
			t.Fatal(err)
		}
		w := nodetest.OpenWireStream(t, hosts[2], hosts[0].ID())
		ask(t, w, `{"op":"sketch","orderfilter":null,"held":190}`)
		_ = w.Stream.Close()
		if i%3 == 2 {
			got, from := symbolsFrom(t, reader, sn, read, 16)
			if got != sn || from != read {
				t.Fatalf("after %d newer snapshots: answered from symbol %d of snapshot %d, want %d of %d", i+1, from, got, read, sn)
			}
			read += 16
		}
	}

	// A requester that needs more symbols than the index gives, after the
	// store moved, starts over on a snapshot of its own; one that reads
	// the same indexed snapshot's prefix goes on reading it.
	first, _ = ask(t, reader, `{"op":"sketch","orderfilter":null,"held":190}`)
	sn, read = first.Metadata.Snapshot, len(first.Metadata.Symbols)/riblt.SymbolSize
	other := nodetest.OpenWireStream(t, hosts[2], hosts[0].ID())
	if second, _ := ask(t, other, `{"op":"sketch","orderfilter":null,"held":190}`); second.Metadata.Snapshot != sn {
		t.Fatalf("a second sync of an unchanged store got snapshot %d, want %d", second.Metadata.Snapshot, sn)
	}
	if _, err := provider.Store.AddOrders(ctx, orders[212:213]); err != nil {
		t.Fatal(err)
	}
	if got, from := symbolsFrom(t, other, sn, riblt.DefaultIndexSymbols, 16); got == sn || from != 0 {
		t.Fatalf("past the index's symbols after the store moved: answered from %d of snapshot %d, want a new snapshot from 0", from, got)
	}
	if got, from := symbolsFrom(t, reader, sn, read, 16); got != sn || from != read {
		t.Fatalf("the other reader of snapshot %d got symbols from %d of snapshot %d, want from %d of %d", sn, from, got, read, sn)
	}
}
