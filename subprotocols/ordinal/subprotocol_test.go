package ordinal

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
	orders := ordergen.Generate(ordergen.Options{Seed: 6, Count: n})
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
	if md := *res.Metadata.(*ResponseMetadata); md != (ResponseMetadata{Page: 0, SnapshotID: hashes[9].Hex()}) {
		t.Fatalf("first page metadata %+v", md)
	}

	// The page number is echoed; the snapshotID is the cursor.
	res, _ = s.HandleOrderSyncRequest(context.Background(), parse(t, s, `{"orderfilter":null,"page":7,"snapshotID":"`+hashes[19].Hex()+`"}`))
	if len(res.Orders) != 5 || res.Orders[0] != orders[20] || res.Complete {
		t.Fatalf("last page: %d orders, complete %v", len(res.Orders), res.Complete)
	}
	if md := *res.Metadata.(*ResponseMetadata); md != (ResponseMetadata{Page: 7, SnapshotID: hashes[24].Hex()}) {
		t.Fatalf("last page metadata %+v", md)
	}

	res, _ = s.HandleOrderSyncRequest(context.Background(), parse(t, s, `{"page":8,"snapshotID":"`+hashes[24].Hex()+`"}`))
	encoded, _ := json.Marshal(res.Orders)
	if !res.Complete || string(encoded) != `[]` || *res.Metadata.(*ResponseMetadata) != (ResponseMetadata{Page: 8, SnapshotID: hashes[24].Hex()}) {
		t.Fatalf("past the end: %+v, orders %s", res, encoded)
	}

	// An empty store answers the first request with an empty snapshotID.
	empty := New(orderstore.NewMemory(), nil)
	res, _ = empty.HandleOrderSyncRequest(context.Background(), parse(t, empty, `null`))
	if !res.Complete || *res.Metadata.(*ResponseMetadata) != (ResponseMetadata{}) {
		t.Fatalf("empty store: %+v", res.Metadata)
	}

	if _, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: 42}); err == nil || !strings.Contains(err.Error(), "int") {
		t.Fatalf("metadata of the wrong type: err = %v", err)
	}
}

func TestRequesterAsksForTheNextPage(t *testing.T) {
	orders, hashes := sortedOrders(t, 30)
	store := orderstore.NewMemory()
	filter := defaultFilter(t)
	s := New(store, filter)

	// The provider says it scanned to hashes[15]; the requester continues
	// from there with the next page number.
	upper := strings.ToUpper(hashes[15].Hex()[2:])
	res := &ordersync.Response{ProviderID: "p", Orders: orders[:10], Metadata: &ResponseMetadata{Page: 3, SnapshotID: upper}}
	next, valid, err := s.HandleOrderSyncResponse(context.Background(), res)
	if err != nil || valid != 10 {
		t.Fatalf("valid %d, err %v", valid, err)
	}
	md := next.Metadata.(*RequestMetadata)
	if md.Page != 4 || md.SnapshotID != upper || md.OrderFilter != filter {
		t.Fatalf("next request %+v", md)
	}

	// Orders past the snapshot the provider claims are out of range.
	res = &ordersync.Response{ProviderID: "p", Orders: orders[16:25], Metadata: &ResponseMetadata{Page: 4, SnapshotID: hashes[20].Hex()}}
	next, valid, err = s.HandleOrderSyncResponse(context.Background(), res)
	if err != nil || valid != 5 || next.Metadata.(*RequestMetadata).SnapshotID != hashes[20].Hex() {
		t.Fatalf("valid %d, next %+v, err %v", valid, next, err)
	}
	if c := s.Stats().Snapshot(); c.OutOfRange != 4 {
		t.Fatalf("out of range %d, want 4", c.OutOfRange)
	}

	// A snapshotID that does not move ends the sync.
	res = &ordersync.Response{ProviderID: "p", Orders: orders[21:22], Metadata: &ResponseMetadata{Page: 5, SnapshotID: hashes[20].Hex()}}
	if next, _, err := s.HandleOrderSyncResponse(context.Background(), res); !errors.Is(err, pagination.ErrCursorStalled) || next != nil {
		t.Fatalf("stalled snapshot: next %v, err %v", next, err)
	}

	next, _, err = s.HandleOrderSyncResponse(context.Background(), &ordersync.Response{ProviderID: "p", Complete: true, Metadata: &ResponseMetadata{}})
	if err != nil || next != nil {
		t.Fatalf("complete: next %v, err %v", next, err)
	}
}
