package subprotocols_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// cursorLog wraps a provider's subprotocol and records the cursor of each
// request it answers.
type cursorLog struct {
	ordersync.Subprotocol
	mu      sync.Mutex
	cursors []common.Hash
}

func (c *cursorLog) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	var h common.Hash
	switch md := req.Metadata.(type) {
	case *filteredpagination.RequestMetadata:
		h = md.MinOrderHash
	case *ordinal.RequestMetadata:
		if md.SnapshotID != "" {
			h = common.HexToHash(md.SnapshotID)
		}
	case *reconcile.RequestMetadata:
		h = common.BytesToHash(md.After)
	}
	c.mu.Lock()
	c.cursors = append(c.cursors, h)
	c.mu.Unlock()
	return c.Subprotocol.HandleOrderSyncRequest(ctx, req)
}

// laneStarts counts the requests that asked from a hash no order has: a
// lane's first request (the hash before the lane's start).
func (c *cursorLog) laneStarts(held map[common.Hash]bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, h := range c.cursors {
		if h != (common.Hash{}) && !held[h] {
			n++
		}
	}
	return n
}

func TestLanesSyncExactlyTheProvidersOrders(t *testing.T) {
	for _, name := range []string{v1, v0, v2} {
		for _, n := range []int{1, 99, 100, 101, 2600} {
			for _, lanes := range []int{4, 8} {
				t.Run(fmt.Sprintf("%s/%d orders/%d lanes", name, n, lanes), func(t *testing.T) {
					orders := nodetest.Orders(n)
					hosts := testnet.New(t, 2)
					store := orderstore.NewMemory()
					if _, err := store.AddOrders(context.Background(), orders); err != nil {
						t.Fatal(err)
					}
					per := pagination.WithPerPage(100)
					if n > 1000 {
						// 130 pages: well over ten for each of 8 lanes.
						per = pagination.WithPerPage(20)
					}
					var inner ordersync.Subprotocol
					switch name {
					case v1:
						inner = filteredpagination.New(store, nil, per)
					case v0:
						inner = ordinal.New(store, nil, per)
					case v2:
						inner = reconcile.New(store, nil, reconcile.WithPagination(per))
					}
					logged := &cursorLog{Subprotocol: inner}
					nodetest.StartService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{logged})
					requester := nodetest.StartNodeWith(t, hosts[1], nil, nil, []string{name}, []ordersync.Option{ordersync.WithLanes(lanes)})
					requester.GetOrders(t, 1)

					nodetest.SameOrders(t, requester.Store, orders)
					c := requester.Counts()
					if c.Accepted != int64(n) || c.New != int64(n) {
						t.Errorf("counts %+v, want %d accepted and new", c, n)
					}
					// The sync spreads into every lane.
					if starts := logged.laneStarts(nodetest.HashSet(t, orders)); n == 2600 && starts != lanes-1 {
						t.Errorf("%d lanes started besides the first, want %d", starts, lanes-1)
					}
				})
			}
		}
	}
}
