package reconcile_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// fetchCounter counts a provider's fetches by positions and by hash. With
// old set it drops the positions of its list answers, as a provider from
// before positions does; with lose set it names a snapshot it never had
// in the first fetch by positions, so that it answers as for a snapshot
// gone.
type fetchCounter struct {
	ordersync.Subprotocol
	old, lose                 bool
	byPosition, byHash, gones atomic.Int64
}

func (c *fetchCounter) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && md.Op == reconcile.OpFetch {
		if len(md.Positions) == 0 {
			c.byHash.Add(1)
		} else if c.byPosition.Add(1) == 1 && c.lose {
			lost := *md
			lost.Snapshot = 1 << 40
			req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &lost}
		}
	}
	res, err := c.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err != nil {
		return res, err
	}
	if m, ok := res.Metadata.(*reconcile.ResponseMetadata); ok {
		if m.Gone {
			c.gones.Add(1)
		}
		if c.old && m.Op == reconcile.OpList {
			stripped := *m
			stripped.Positions = nil
			res = &ordersync.Response{Orders: res.Orders, Complete: res.Complete, Metadata: &stripped}
		}
	}
	return res, nil
}

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
		hosts := testnet.New(t, 2)
		counter := &fetchCounter{old: tc.old, lose: tc.lose}
		startReconcileProvider(t, hosts[0], memoryWith(t, provSet), func(s ordersync.Subprotocol) ordersync.Subprotocol {
			counter.Subprotocol = s
			return counter
		})
		requester := nodetest.StartNode(t, hosts[1], reqSet, nil, all3)
		requester.GetOrders(t, 1)
		nodetest.SameOrders(t, requester.Store, orders)
		st := requester.Service.Stats()
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
