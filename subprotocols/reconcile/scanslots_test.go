package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// A sketch or a fetch with a costly filter takes one of the process's
// scan slots, as a version 1 page does: with every slot held elsewhere it
// gives up after its scan budget's time, and once a slot is free it is
// answered. (Reconcile once ran such filters with no slot: four peers kept
// both cores of a provider busy.)
func TestCostlyFilterTakesAScanSlot(t *testing.T) {
	store := orderstore.NewMemory()
	orders := fuzzOrders()[:50]
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	costly, err := orderfilter.New(ordergen.DefaultChainID, `{"anyOf":[{"required":["noSuchField"]},{"$ref":"/signedOrder"}]}`, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	if costly.IsTrivial() {
		t.Fatal("the filter is trivial")
	}
	slots := paging.NewScanSlots(1)
	s := New(store, nil, WithPagination(paging.WithScanSlots(slots)), WithMaxScan(0, 50*time.Millisecond))
	other := paging.NewPager(store, nil, paging.WithScanSlots(slots))
	h, _ := orders[0].ComputeOrderHash()
	requests := map[string]*RequestMetadata{
		"sketch": {Op: OpSketch, OrderFilter: costly, Held: len(orders)},
		"fetch":  {Op: OpFetch, OrderFilter: costly, Hashes: h[:]},
	}
	for name, md := range requests {
		raw, _ := json.Marshal(md)
		parsed, err := s.ParseRequestMetadata(raw)
		if err != nil {
			t.Fatal(err)
		}
		req := &ordersync.Request{Metadata: parsed}
		release, err := other.HoldScanSlot(context.Background(), costly, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.HandleOrderSyncRequest(context.Background(), req); !errors.Is(err, pagination.ErrScanLimit) {
			t.Errorf("%s with every slot held: %v, want ErrScanLimit", name, err)
		}
		release()
		if _, err := s.HandleOrderSyncRequest(context.Background(), req); err != nil {
			t.Errorf("%s with a slot free: %v", name, err)
		}
	}
}
