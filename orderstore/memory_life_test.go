package orderstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// TestMemoryPrunerExpiresUnread: with nobody reading, the pruner drops an
// order within about a second of its expiry, and says so on the feed. The
// test waits for the change, not for time.
func TestMemoryPrunerExpiresUnread(t *testing.T) {
	m := orderstore.NewMemory(orderstore.WithExpiry(0))
	defer m.Close()
	sub := m.Subscribe(0)
	o := ordergen.Generate(ordergen.Options{Seed: 3, Count: 1})[0]
	o.ExpirationTimeSeconds.SetInt64(time.Now().Unix() + 1)
	o.ResetHash()
	if n, err := m.AddOrders(context.Background(), []*zeroex.SignedOrder{o}); err != nil || n != 1 {
		t.Fatalf("AddOrders: %d, %v", n, err)
	}
	select {
	case c := <-sub.Changes():
		if c.Kind != orderstore.ChangeAdded {
			t.Fatalf("first change %v, want added", c.Kind)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change")
	}
	select {
	case c := <-sub.Changes():
		if c.Kind != orderstore.ChangeExpired || c.Hash != hash(t, o) {
			t.Fatalf("change %v of %s, want the order's expiry", c.Kind, c.Hash)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pruner did not drop an order that expired")
	}
	if st := m.Stats(); st.Expired != 1 || st.Orders != 0 {
		t.Fatalf("Stats after expiry: %+v", st)
	}
	// Close ends the pruner (TestMain's goleak checks) and the feed.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, open := <-sub.Changes(); open {
		t.Fatal("the feed is open after Close")
	}
}

func hash(t *testing.T, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
