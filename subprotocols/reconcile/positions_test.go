package reconcile_test

import (
	"testing"

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
