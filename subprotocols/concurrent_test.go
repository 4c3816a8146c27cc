package subprotocols_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// Two GetOrders and a SyncPeer at once on one Service, as a node that
// syncs a peer on connecting while PeriodicallyGetOrders runs does, and
// three GetOrders at once, must not run two
// syncs with the one provider side by side: those corrupted each other's
// per-provider state, failed with errors that blamed the provider and
// left orders behind.
func TestConcurrentGetOrdersShareOneSync(t *testing.T) {
	for _, syncPeer := range []bool{false, true} {
		t.Run(fmt.Sprintf("SyncPeer=%v", syncPeer), func(t *testing.T) { concurrentSyncs(t, syncPeer) })
	}
}

func concurrentSyncs(t *testing.T, syncPeer bool) {
	orders := nodetest.Orders(2040)
	hosts := testnet.New(t, 2)
	names := []string{v2, v1, v0}
	provider := nodetest.StartNode(t, hosts[0], orders, nil, names)
	requester := nodetest.StartNode(t, hosts[1], nil, nil, names)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if syncPeer && i == 2 {
				errs[i] = requester.Service.SyncPeer(ctx, provider.Host.ID())
				return
			}
			errs[i] = requester.Service.GetOrders(ctx, 1)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("GetOrders %d: %v", i, err)
		}
	}
	st := requester.Service.Stats()
	if st.SyncsFailed != 0 {
		t.Errorf("%d syncs failed (last error with the provider: %q)", st.SyncsFailed, st.Providers[provider.Host.ID()].LastError)
	}
	nodetest.SameOrders(t, requester.Store, orders)
}
