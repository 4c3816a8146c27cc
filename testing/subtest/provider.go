package subtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// A Page is a request to a provider and the answer it must give.
type Page struct {
	Name string
	// Request is the request's metadata JSON.
	Request string
	// From and To bound the answer's orders: exactly orders[From:To] of
	// the provider's, the same values in the same order. An empty page is
	// written as "orders":[].
	From, To int
	Complete bool
	// Metadata is the answer's metadata, compared with reflect.DeepEqual.
	Metadata any
}

// Provider is what ProviderAnswers serves from.
type Provider struct {
	// Orders are the store's, ascending by hash.
	Orders  []*zeroex.SignedOrder
	PerPage int
	// Pages are asked in turn of a provider over Orders.
	Pages []Page
	// Empty is the metadata of an empty store's answer to the first
	// request, which is complete and has no orders.
	Empty any
}

// ProviderAnswers checks the answers of a provider made with newS to
// p.Pages, an empty store's answer, and its errors: metadata of a type
// ParseRequestMetadata does not make, a nil request, and a context already
// cancelled.
func ProviderAnswers[S Subprotocol](t *testing.T, newS New[S], p Provider) {
	s := newS(NewStore(t, p.Orders), nil, pagination.WithPerPage(p.PerPage))
	for _, pg := range p.Pages {
		t.Run(pg.Name, func(t *testing.T) {
			res, err := s.HandleOrderSyncRequest(context.Background(), Parse(t, s, pg.Request))
			if err != nil {
				t.Fatal(err)
			}
			checkAnswer(t, res, p.Orders[pg.From:pg.To], pg.Complete, pg.Metadata)
		})
	}

	t.Run("empty store", func(t *testing.T) {
		empty := newS(orderstore.NewMemory(), nil)
		res, err := empty.HandleOrderSyncRequest(context.Background(), Parse(t, empty, `null`))
		if err != nil {
			t.Fatal(err)
		}
		checkAnswer(t, res, nil, true, p.Empty)
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			md   any
			want string
		}{{"nonsense", "string"}, {42, "int"}} {
			if _, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: tc.md}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("metadata of type %T: err = %v", tc.md, err)
			}
		}
		if _, err := s.HandleOrderSyncRequest(context.Background(), nil); err == nil {
			t.Error("nil request: no error")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.HandleOrderSyncRequest(ctx, Parse(t, s, `null`)); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: err = %v", err)
		}
	})
}

// checkAnswer checks that res has exactly orders, completeness complete
// and metadata md.
func checkAnswer(t *testing.T, res *ordersync.Response, orders []*zeroex.SignedOrder, complete bool, md any) {
	t.Helper()
	if res.Orders == nil || len(res.Orders) != len(orders) || res.Complete != complete {
		t.Fatalf("%d orders (nil: %v), complete %v; want %d, complete %v", len(res.Orders), res.Orders == nil, res.Complete, len(orders), complete)
	}
	for i := range orders {
		if res.Orders[i] != orders[i] {
			t.Fatalf("order %d is not the store's", i)
		}
	}
	if len(orders) == 0 {
		if encoded, _ := json.Marshal(res.Orders); string(encoded) != `[]` {
			t.Fatalf("empty page written as %s", encoded)
		}
	}
	if !reflect.DeepEqual(res.Metadata, md) {
		t.Fatalf("metadata %+v, want %+v", res.Metadata, md)
	}
}

// NextRequestIsHandlesNext syncs page by page from a provider of 25
// orders of ordergen's stream seed, 10 a page, and checks that the request
// NextRequest makes before a page is checked is the one
// HandleOrderSyncResponse returns after, byte for byte on the wire.
func NextRequestIsHandlesNext[S Subprotocol](t *testing.T, newS New[S], seed int64) {
	ctx := context.Background()
	orders, _ := SortedOrders(t, seed, 25)
	provider := newS(NewStore(t, orders), nil, pagination.WithPerPage(10))
	requester := newS(orderstore.NewMemory(), nil)

	if _, err := requester.NextRequest(ctx, nil); err == nil {
		t.Error("NextRequest of a nil response: no error")
	}
	if _, _, err := requester.HandleOrderSyncResponse(ctx, nil); err == nil {
		t.Error("HandleOrderSyncResponse of a nil response: no error")
	}
	req := Parse(t, provider, `null`)
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
		req = Parse(t, provider, string(wantJSON))
	}
}
