package reconcile_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
)

// TestReconcileFetchesByPosition: after a list, the requester names the
// orders it fetches by their positions in the provider's snapshot, and
// writes fewer bytes than to a provider whose list gives none (one from
// before positions), which it fetches from by hash. A provider whose
// snapshot is gone by the fetch says so, and the requester asks again by
// hash. Each ends with the union of the two sets.
func TestReconcileFetchesByPosition(t *testing.T) {
	orders := nodetest.Orders(9000)
	provSet, reqSet := orders[:6000], orders[3000:]
	var written [2]int64
	for i, tc := range []struct{ old, lose bool }{{false, false}, {true, false}, {false, true}} {
		counter := &listCounter{noPositions: tc.old, lose: tc.lose}
		st := syncThrough(t, counter, provSet, reqSet, orders)
		byPosition, byHash, gones := counter.byPosition.Load(), counter.byHash.Load(), counter.gones.Load()
		t.Logf("old %v, lose %v: %d fetches by position, %d by hash, %d gone; %d bytes written, %d read",
			tc.old, tc.lose, byPosition, byHash, gones, st.BytesWritten, st.BytesRead)
		switch {
		case tc.old && (byPosition != 0 || byHash == 0):
			t.Errorf("a provider without positions: %d fetches by position, %d by hash", byPosition, byHash)
		case tc.lose && (gones != 1 || byPosition != 1 || byHash == 0):
			t.Errorf("a snapshot gone: %d gone answers, %d fetches by position, %d by hash", gones, byPosition, byHash)
		case !tc.old && !tc.lose && (byPosition == 0 || byHash != 0):
			t.Errorf("%d fetches by position, %d by hash", byPosition, byHash)
		}
		if i < 2 {
			written[i] = st.BytesWritten
		}
	}
	// 3 000 hashes fetched: about 129 kB of base64 by hash.
	if written[0]+100_000 > written[1] {
		t.Errorf("wrote %d bytes fetching by position, %d by hash", written[0], written[1])
	}
}

// A fetch by positions of a snapshot the provider listed draws the orders
// at those positions; one past the snapshot's end is an invalid request,
// and one of a snapshot it never made is answered "gone", also after a
// restart (a new Subprotocol on the same store), whose snapshot ids once
// started at 1 again.
func TestReconcileFetchByPositionBounds(t *testing.T) {
	orders := nodetest.Orders(50)
	store := memoryWith(t, orders)
	s := reconcile.New(store, nil)
	ask := func(md *reconcile.RequestMetadata) (*ordersync.Response, error) {
		return s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: md})
	}
	res, err := ask(&reconcile.RequestMetadata{Op: reconcile.OpSketch, List: true})
	if err != nil {
		t.Fatal(err)
	}
	list := res.Metadata.(*reconcile.ResponseMetadata)
	if list.Op != reconcile.OpList || len(list.Positions) == 0 {
		t.Fatalf("answered %q with %d bytes of positions", list.Op, len(list.Positions))
	}
	got, err := ask(&reconcile.RequestMetadata{Op: reconcile.OpFetch, Snapshot: list.Snapshot, Positions: []byte{3, 10}})
	if err != nil || len(got.Orders) != 2 {
		t.Fatalf("fetched %v orders at positions 3 and 13: %v", got, err)
	}
	for i, o := range got.Orders {
		h, _ := o.ComputeOrderHash()
		if want := list.Hashes[32*(3+10*i) : 32*(4+10*i)]; !bytes.Equal(h[:], want) {
			t.Errorf("order %d: %x, want %x", i, h[:4], want[:4])
		}
	}
	if _, err := ask(&reconcile.RequestMetadata{Op: reconcile.OpFetch, Snapshot: list.Snapshot, Positions: []byte{49, 1}}); err == nil {
		t.Error("a fetch of position 50 of 50 hashes was answered")
	}
	gone, err := ask(&reconcile.RequestMetadata{Op: reconcile.OpFetch, Snapshot: list.Snapshot + 1, Positions: []byte{0}})
	if err != nil || !gone.Metadata.(*reconcile.ResponseMetadata).Gone || len(gone.Orders) != 0 {
		t.Errorf("a fetch of a snapshot never made: %v, %v", gone, err)
	}
	s = reconcile.New(store, nil)
	if _, err := ask(&reconcile.RequestMetadata{Op: reconcile.OpSketch, List: true}); err != nil {
		t.Fatal(err)
	}
	gone, err = ask(&reconcile.RequestMetadata{Op: reconcile.OpFetch, Snapshot: list.Snapshot, Positions: []byte{0}})
	if err != nil || !gone.Metadata.(*reconcile.ResponseMetadata).Gone || len(gone.Orders) != 0 {
		t.Errorf("a restarted provider's answer to a fetch of a snapshot before: %d orders, %v", len(gone.Orders), err)
	}
}
