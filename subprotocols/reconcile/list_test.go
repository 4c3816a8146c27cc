package reconcile_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// listCounter counts a provider's list answers and the hashes they list,
// and its fetches by position and by hash. As an older provider it drops
// what its parser does not know and sends nothing it did not know: with
// noPositions, the list answers' positions (a provider from before
// positions); with noSets, the sketch answers' HeldSets (from before held
// sets); with noFilter, the request's held filter too (from before
// filters); with old, the request's List and After too (from before
// lists). With lose set it names a snapshot it never had in the first
// fetch by positions, so that it answers as for a snapshot gone.
type listCounter struct {
	ordersync.Subprotocol
	old, noFilter, noSets, noPositions, lose bool
	lists, listed                            atomic.Int64
	byPosition, byHash, gones                atomic.Int64
}

func (c *listCounter) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*reconcile.RequestMetadata); ok && (c.old || c.noFilter) && md.List {
		stripped := *md
		stripped.HeldFilter, stripped.HeldFilterPositions, stripped.HeldFilterSalt = nil, 0, 0
		stripped.HeldSet, stripped.HeldSetCount, stripped.HeldSetBits, stripped.HeldSetSalt = nil, 0, 0, 0
		if c.old {
			stripped.List, stripped.After = false, nil
		}
		req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &stripped}
	}
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
	m, ok := res.Metadata.(*reconcile.ResponseMetadata)
	if !ok {
		return res, nil
	}
	if m.Op == reconcile.OpList {
		c.lists.Add(1)
		c.listed.Add(int64(len(m.Hashes) / 32))
	}
	if m.Gone {
		c.gones.Add(1)
	}
	stripped := *m
	if c.old || c.noFilter || c.noSets {
		stripped.HeldSets = false
	}
	if c.old || c.noFilter || c.noPositions {
		stripped.Positions = nil
	}
	return &ordersync.Response{Orders: res.Orders, Complete: res.Complete, Metadata: &stripped}, nil
}

// syncThrough syncs a requester holding reqSet from a provider holding
// provSet behind counter, checks that it ends with want, and returns the
// requester's stats.
func syncThrough(t *testing.T, counter *listCounter, provSet, reqSet, want []*zeroex.SignedOrder) ordersync.Stats {
	t.Helper()
	hosts := testnet.New(t, 2)
	startReconcileProvider(t, hosts[0], memoryWith(t, provSet), func(s ordersync.Subprotocol) ordersync.Subprotocol {
		counter.Subprotocol = s
		return counter
	})
	requester := nodetest.StartNode(t, hosts[1], reqSet, nil, all3)
	requester.GetOrders(t, 1)
	nodetest.SameOrders(t, requester.Store, want)
	return requester.Service.Stats()
}

// TestReconcileListsALargeDifference: requester and provider share a
// third of their orders, so that the difference's symbols cost more than
// the provider's list. The requester asks for the list, filtered by what
// it holds, and ends with the union; it reads more from a provider that
// lists every hash (one from before filters), and more again from one
// that does not know lists, which it still syncs with, by symbols. It
// writes less with a held set than with the held filter it sends a
// provider from before held sets.
func TestReconcileListsALargeDifference(t *testing.T) {
	orders := nodetest.Orders(9000)
	provSet, reqSet := orders[:6000], orders[3000:]
	var read, written [4]int64
	for i, tc := range []struct{ old, noFilter, noSets bool }{{false, false, false}, {false, true, false}, {true, false, false}, {false, false, true}} {
		counter := &listCounter{old: tc.old, noFilter: tc.noFilter, noSets: tc.noSets}
		st := syncThrough(t, counter, provSet, reqSet, orders)
		read[i], written[i] = st.BytesRead, st.BytesWritten
		t.Logf("old provider %v, no filter %v, no sets %v: %d list answers of %d hashes, %d bytes read, %d written",
			tc.old, tc.noFilter, tc.noSets, counter.lists.Load(), counter.listed.Load(), st.BytesRead, st.BytesWritten)
		if got := counter.lists.Load(); (got > 0) == tc.old {
			t.Errorf("old provider %v: %d list answers", tc.old, got)
		}
		// Filtered, the list holds the 3 000 hashes the requester lacks.
		if listed := counter.listed.Load(); !tc.old && !tc.noFilter && listed != 3000 {
			t.Errorf("%d hashes listed through the filter, want 3 000", listed)
		}
	}
	if read[0] >= read[1] || read[1] >= read[2] {
		t.Errorf("read %d bytes with a filtered list, %d with a whole list, %d with symbols", read[0], read[1], read[2])
	}
	// 6 000 hashes held: about 40 kB of base64 as a held filter, 30 kB
	// as a held set.
	if written[0]+8000 > written[3] {
		t.Errorf("wrote %d bytes with a held set, %d with a held filter", written[0], written[3])
	}
}

// TestReconcileHostileLists: a provider whose lists are out of order, or
// longer than the snapshot it named, fails the sync; nothing it did not
// list and deliver is stored.
func TestReconcileHostileLists(t *testing.T) {
	orders := nodetest.Orders(6000)
	provSet, reqSet := orders[:4000], orders[2000:]
	for _, tc := range []struct {
		name  string
		spoil func(*reconcile.ResponseMetadata)
	}{
		{"descending", func(md *reconcile.ResponseMetadata) {
			h := md.Hashes
			for i, j := 0, len(h)-32; i < j; i, j = i+32, j-32 {
				for k := 0; k < 32; k++ {
					h[i+k], h[j+k] = h[j+k], h[i+k]
				}
			}
		}},
		{"longer than its total", func(md *reconcile.ResponseMetadata) { md.Total = len(md.Hashes)/32 - 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			startReconcileProvider(t, hosts[0], memoryWith(t, provSet), func(s ordersync.Subprotocol) ordersync.Subprotocol {
				return &listSpoiler{Subprotocol: s, spoil: tc.spoil}
			})
			requester := nodetest.StartNode(t, hosts[1], reqSet, nil, all3)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if err := requester.Service.GetOrders(ctx, 1); err == nil {
				t.Fatal("GetOrders synced with a provider whose lists are spoiled")
			}
			nodetest.SameOrders(t, requester.Store, reqSet)
		})
	}
}

// listSpoiler spoils a provider's list answers.
type listSpoiler struct {
	ordersync.Subprotocol
	spoil func(*reconcile.ResponseMetadata)
}

func (l *listSpoiler) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	res, err := l.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err == nil {
		if md, ok := res.Metadata.(*reconcile.ResponseMetadata); ok && md.Op == reconcile.OpList {
			c := *md
			c.Hashes = append([]byte(nil), md.Hashes...)
			l.spoil(&c)
			res.Metadata = &c
		}
	}
	return res, err
}
