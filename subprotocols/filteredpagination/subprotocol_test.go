package filteredpagination

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

func sortedOrders(t testing.TB, n int) ([]*zeroex.SignedOrder, []common.Hash) {
	t.Helper()
	orders := ordergen.Generate(ordergen.Options{Seed: 5, Count: n})
	hashes := make([]common.Hash, n)
	slices.SortFunc(orders, func(a, b *zeroex.SignedOrder) int {
		ha, _ := a.ComputeOrderHash()
		hb, _ := b.ComputeOrderHash()
		return bytes.Compare(ha[:], hb[:])
	})
	for i, o := range orders {
		hashes[i], _ = o.ComputeOrderHash()
	}
	return orders, hashes
}

// parse runs metadata through ParseRequestMetadata, as the Service does.
func parse(t *testing.T, s *Subprotocol, md string) *ordersync.Request {
	t.Helper()
	v, err := s.ParseRequestMetadata(json.RawMessage(md))
	if err != nil {
		t.Fatal(err)
	}
	return &ordersync.Request{RequesterID: "requester", Metadata: v}
}

func TestProviderAnswers(t *testing.T) {
	orders, hashes := sortedOrders(t, 25)
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	s := New(store, nil, pagination.WithPerPage(10))

	res, err := s.HandleOrderSyncRequest(context.Background(), parse(t, s, `null`))
	if err != nil || len(res.Orders) != 10 || res.Complete || res.Orders[0] != orders[0] {
		t.Fatalf("first page: %+v, %v", res, err)
	}
	if md := res.Metadata.(*ResponseMetadata); md.NextMinOrderHash != hashes[9] {
		t.Fatalf("nextMinOrderHash %s, want %s", md.NextMinOrderHash, hashes[9])
	}

	res, _ = s.HandleOrderSyncRequest(context.Background(), parse(t, s, `{"orderfilter":null,"minOrderHash":"`+hashes[19].Hex()+`"}`))
	if len(res.Orders) != 5 || res.Orders[0] != orders[20] || res.Complete {
		t.Fatalf("last page: %d orders, complete %v", len(res.Orders), res.Complete)
	}

	res, _ = s.HandleOrderSyncRequest(context.Background(), parse(t, s, `{"minOrderHash":"`+hashes[24].Hex()+`"}`))
	if !res.Complete || res.Orders == nil || len(res.Orders) != 0 {
		t.Fatalf("past the end: %+v", res)
	}
	// An empty page is written as "orders":[], and echoes the cursor.
	encoded, _ := json.Marshal(res.Orders)
	if string(encoded) != `[]` || res.Metadata.(*ResponseMetadata).NextMinOrderHash != hashes[24] {
		t.Fatalf("empty page: %s, %+v", encoded, res.Metadata)
	}

	if _, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: "nonsense"}); err == nil || !strings.Contains(err.Error(), "string") {
		t.Fatalf("metadata of the wrong type: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.HandleOrderSyncRequest(ctx, parse(t, s, `null`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestRequesterFollowsTheLastOrder(t *testing.T) {
	orders, hashes := sortedOrders(t, 30)
	store := orderstore.NewMemory()
	filter := defaultFilter(t)
	s := New(store, filter)

	// The provider scanned past its last matching order: the requester
	// still asks from the last order it got (WIRE.md).
	res := &ordersync.Response{ProviderID: "p", Orders: orders[:10], Metadata: &ResponseMetadata{NextMinOrderHash: hashes[15]}}
	next, valid, err := s.HandleOrderSyncResponse(context.Background(), res)
	if err != nil || valid != 10 {
		t.Fatalf("valid %d, err %v", valid, err)
	}
	md := next.Metadata.(*RequestMetadata)
	if md.MinOrderHash != hashes[9] || md.OrderFilter != filter {
		t.Fatalf("next request %+v", md)
	}
	encoded, _ := json.Marshal(next.Metadata)
	if !strings.HasSuffix(string(encoded), `"minOrderHash":"`+hashes[9].Hex()+`"}`) {
		t.Fatalf("next request on the wire: %s", encoded)
	}

	// The same page again is a provider going round in circles.
	next, _, err = s.HandleOrderSyncResponse(context.Background(), res)
	if !errors.Is(err, pagination.ErrCursorStalled) || next != nil {
		t.Fatalf("replayed page: next %v, err %v", next, err)
	}

	// A complete response ends the sync, orders and all.
	next, valid, err = s.HandleOrderSyncResponse(context.Background(), &ordersync.Response{ProviderID: "q", Orders: orders[:3], Complete: true})
	if err != nil || valid != 3 || next != nil {
		t.Fatalf("complete page: next %v, valid %d, err %v", next, valid, err)
	}
	if store.Len() != 10 {
		t.Fatalf("store holds %d", store.Len())
	}
}
