package ordinal

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// TestNextRequestIsHandlesNext syncs page by page from a provider and
// checks that the request NextRequest makes before a page is checked is
// the one HandleOrderSyncResponse returns after, byte for byte on the wire.
func TestNextRequestIsHandlesNext(t *testing.T) {
	ctx := context.Background()
	orders, _ := sortedOrders(t, 25)
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(ctx, orders); err != nil {
		t.Fatal(err)
	}
	provider := New(store, nil, pagination.WithPerPage(10))
	requester := New(orderstore.NewMemory(), nil)

	req := parse(t, provider, `null`)
	for pages := 1; ; pages++ {
		if pages > 4 {
			t.Fatal("no complete response after 4 pages of 25 orders")
		}
		res, err := provider.HandleOrderSyncRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		res.ProviderID = "provider"
		var early *ordersync.Request
		if !res.Complete {
			if early, err = requester.NextRequest(ctx, res); err != nil || early == nil {
				t.Fatalf("page %d: NextRequest: %v, %v", pages, early, err)
			}
		}
		next, valid, err := requester.HandleOrderSyncResponse(ctx, res)
		if err != nil || valid != len(res.Orders) {
			t.Fatalf("page %d: %d valid of %d, %v", pages, valid, len(res.Orders), err)
		}
		if res.Complete {
			if next != nil {
				t.Fatalf("complete response led to request %+v", next)
			}
			return
		}
		wantJSON, _ := json.Marshal(next.Metadata)
		gotJSON, _ := json.Marshal(early.Metadata)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("page %d: NextRequest %s, HandleOrderSyncResponse %s", pages, gotJSON, wantJSON)
		}
		req = parse(t, provider, string(wantJSON))
	}
}
