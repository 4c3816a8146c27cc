package filteredpagination

import (
	"encoding/json"
	"testing"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/subtest"
)

// seed is this package's ordergen stream.
const seed = 5

// The provider's cursor is the hash of the last order it scanned; a
// complete response carries the zero hash, as existing providers send.
func TestProviderAnswers(t *testing.T) {
	orders, hashes := subtest.SortedOrders(t, seed, 25)
	subtest.ProviderAnswers(t, New, subtest.Provider{
		Orders:  orders,
		PerPage: 10,
		Pages: []subtest.Page{
			{Name: "first page", Request: `null`, From: 0, To: 10,
				Metadata: &ResponseMetadata{NextMinOrderHash: hashes[9]}},
			{Name: "last page", Request: `{"orderfilter":null,"minOrderHash":"` + hashes[19].Hex() + `"}`, From: 20, To: 25,
				Metadata: &ResponseMetadata{NextMinOrderHash: hashes[24]}},
			{Name: "past the end", Request: `{"minOrderHash":"` + hashes[24].Hex() + `"}`, From: 25, To: 25, Complete: true,
				Metadata: &ResponseMetadata{}},
		},
		Empty: &ResponseMetadata{},
	})
}

func TestRequesterFollowsTheLastOrder(t *testing.T) {
	orders, hashes := subtest.SortedOrders(t, seed, 30)
	store := orderstore.NewMemory()
	filter := subtest.DefaultFilter(t)
	filterJSON, _ := json.Marshal(filter)
	// The provider scanned past its last matching order: the requester
	// still asks from the last order it got (docs/protocol.md).
	res := &ordersync.Response{ProviderID: "p", Orders: orders[:10], Metadata: &ResponseMetadata{NextMinOrderHash: hashes[15]}}
	subtest.RequesterTakes(t, New(store, filter), []subtest.Step{
		{Name: "page", Res: res, Valid: 10,
			Next:     &RequestMetadata{OrderFilter: filter, MinOrderHash: hashes[9]},
			NextJSON: `{"orderfilter":` + string(filterJSON) + `,"minOrderHash":"` + hashes[9].Hex() + `"}`},
		// The same page again is a provider going round in circles.
		{Name: "replayed page", Res: res, Err: pagination.ErrCursorStalled},
		// A complete response ends the sync, orders and all.
		{Name: "complete page", Res: &ordersync.Response{ProviderID: "q", Orders: orders[:3], Complete: true}, Valid: 3,
			Then: func(t *testing.T) {
				if store.Len() != 10 {
					t.Fatalf("store holds %d", store.Len())
				}
			}},
	})
}
