package subprotocols_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// These tests speak to a provider the way an original 0x Mesh requester
// does, with raw messages on a raw stream, and check the bytes that come
// back.

const zeroHash = "0x0000000000000000000000000000000000000000000000000000000000000000"

// firstMetadata is the subprotocol metadata of a sync's first request, with
// filter (JSON) as the orderfilter.
func firstMetadata(name, filter string) string {
	if name == v1 {
		return `{"orderfilter":` + filter + `,"minOrderHash":"` + zeroHash + `"}`
	}
	return `{"orderfilter":` + filter + `,"page":0,"snapshotID":""}`
}

// nextMetadata is the subprotocol metadata of the request that follows res,
// as an original requester makes it: the hash of the last order (v1), or
// the next page and the response's snapshotID (v0).
func nextMetadata(t *testing.T, name, filter string, res *nodetest.WireResponse) string {
	t.Helper()
	if name == v1 {
		last, err := res.Orders[len(res.Orders)-1].ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		return `{"orderfilter":` + filter + `,"minOrderHash":"` + last.Hex() + `"}`
	}
	return fmt.Sprintf(`{"orderfilter":%s,"page":%d,"snapshotID":%q}`, filter, res.Metadata.Page+1, res.Metadata.SnapshotID)
}

// The response that ends a sync carries the zero hash as its cursor, as
// the original provider's does, not the request's cursor.
func TestCompleteResponseBytes(t *testing.T) {
	orders := nodetest.Orders(3)
	hosts := testnet.New(t, 2)
	nodetest.StartNode(t, hosts[0], orders, nil, []string{v1, v0})
	want := map[string]string{
		v1: `{"type":"Response","subprotocol":"/pagination-with-filter/version/1","orders":[],"complete":true,"metadata":{"nextMinOrderHash":"` + zeroHash + `"}}` + "\n",
		v0: `{"type":"Response","subprotocol":"/pagination-with-filter/version/0","orders":[],"complete":true,"metadata":{"page":1,"snapshotID":"` + zeroHash + `"}}` + "\n",
	}
	for _, name := range []string{v1, v0} {
		t.Run(name, func(t *testing.T) {
			w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
			w.Request([]string{name}, firstMetadata(name, "null"))
			_, res, err := w.Response()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Orders) != 3 || res.Complete {
				t.Fatalf("first response: %d orders, complete %v", len(res.Orders), res.Complete)
			}
			w.Request([]string{name}, nextMetadata(t, name, "null", res))
			got, _, err := w.Response()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want[name] {
				t.Errorf("final response\n got %s\nwant %s", got, want[name])
			}
		})
	}
}

// makerFilter is a filter of ordergen's chain and exchange that keeps the
// orders of orders[0]'s maker, and its JSON.
func makerFilter(t *testing.T, orders []*zeroex.SignedOrder) (*orderfilter.Filter, string) {
	t.Helper()
	maker := strings.ToLower(orders[0].MakerAddress.Hex())
	filter, err := orderfilter.New(ordergen.DefaultChainID, `{"properties":{"makerAddress":{"const":"`+maker+`"}}}`, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(filter)
	if err != nil {
		t.Fatal(err)
	}
	return filter, string(encoded)
}

func allMatch(t *testing.T, filter *orderfilter.Filter, orders []*zeroex.SignedOrder) bool {
	t.Helper()
	for _, o := range orders {
		if ok, err := filter.MatchOrder(o); !ok || err != nil {
			return false
		}
	}
	return true
}

// Deliberately unlike the original provider, which hands a first request
// naming one subprotocol its metadata as it came (so that a wrapped
// {"metadata":[...]} reads as no filter, and it sends every order), ours
// unwraps it and applies the filter inside.
func TestSingleWrappedFirstRequestIsUnwrapped(t *testing.T) {
	orders := nodetest.Orders(100)
	filter, filterJSON := makerFilter(t, orders)
	var matching int
	for _, o := range orders {
		if ok, _ := filter.MatchOrder(o); ok {
			matching++
		}
	}
	if matching == 0 || matching == len(orders) {
		t.Fatalf("%d of %d orders match: the filter shows nothing", matching, len(orders))
	}
	hosts := testnet.New(t, 2)
	nodetest.StartNode(t, hosts[0], orders, nil, []string{v1, v0}, pagination.WithPerPage(len(orders)))
	for _, name := range []string{v1, v0} {
		t.Run(name, func(t *testing.T) {
			w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
			w.Request([]string{name}, `{"metadata":[`+firstMetadata(name, filterJSON)+`]}`)
			_, res, err := w.Response()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Orders) != matching || !allMatch(t, filter, res.Orders) {
				t.Errorf("%d orders, want the %d that match the wrapped filter", len(res.Orders), matching)
			}
		})
	}
}

// Deliberately unlike the original provider, which answers with the
// matches among one scan of perPage stored orders (often a handful), ours
// fills a response with up to perPage matches.
func TestFilteredResponseIsFilledToPerPage(t *testing.T) {
	const perPage = 10
	orders := nodetest.Orders(300)
	filter, filterJSON := makerFilter(t, orders)
	hosts := testnet.New(t, 2)
	provider := nodetest.StartNode(t, hosts[0], orders, nil, []string{v1, v0}, pagination.WithPerPage(perPage))
	firstScan := 0 // the original's answer: matches among the first perPage stored
	for _, h := range nodetest.Hashes(t, provider.Store)[:perPage] {
		o, _ := provider.Store.Get(h)
		if ok, _ := filter.MatchOrder(o); ok {
			firstScan++
		}
	}
	if firstScan >= perPage {
		t.Fatalf("%d of the first %d stored orders match: the test shows nothing", firstScan, perPage)
	}
	for _, name := range []string{v1, v0} {
		t.Run(name, func(t *testing.T) {
			w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
			other := map[string]string{v1: v0, v0: v1}[name]
			w.Request([]string{name, other}, `{"metadata":[`+firstMetadata(name, filterJSON)+`,`+firstMetadata(other, filterJSON)+`]}`)
			_, res, err := w.Response()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Orders) != perPage || !allMatch(t, filter, res.Orders) {
				t.Errorf("%d orders (the original sends %d), want %d that all match", len(res.Orders), firstScan, perPage)
			}
		})
	}
}

// originalSync plays an original 0x Mesh requester syncing with provider,
// from its first round to the end: a stream the provider closes before the
// complete response is a failed round (the original backs off and resumes
// from its last request), and a stream whose complete response came with
// no order on that stream is "no orders from peer" (the original starts
// over next round). It returns the orders received and the rounds taken,
// or fails after maxRounds.
func originalSync(t *testing.T, from host.Host, provider peer.ID, name string, maxRounds int) ([]*zeroex.SignedOrder, int) {
	t.Helper()
	var got []*zeroex.SignedOrder
	resume := "" // the request to resume from; "" starts a sync over
	for round := 1; round <= maxRounds; round++ {
		w := nodetest.OpenWireStream(t, from, provider)
		if resume == "" {
			got = got[:0]
			w.Request([]string{v1, v0}, `{"metadata":[`+firstMetadata(v1, "null")+`,`+firstMetadata(v0, "null")+`]}`)
		} else {
			w.Request([]string{name}, resume)
		}
		onStream := 0
		for {
			_, res, err := w.Response()
			if errors.Is(err, io.EOF) {
				break // a failed round: back off, resume from resume
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Subprotocol != name {
				t.Fatalf("provider chose %q, want %q", res.Subprotocol, name)
			}
			got = append(got, res.Orders...)
			onStream += len(res.Orders)
			if res.Complete {
				if onStream > 0 {
					_ = w.Stream.Close()
					return got, round
				}
				resume = "" // no orders from peer: over again
				break
			}
			resume = nextMetadata(t, name, "null", res)
			w.Request([]string{name}, resume)
		}
		_ = w.Stream.Close()
	}
	t.Fatalf("an original requester did not finish in %d rounds", maxRounds)
	return nil, 0
}

// An original requester finishes its sync with a provider that caps the
// pages of a stream, whatever the cap: the provider never leaves the empty
// complete page alone on the last stream. 40 orders at 10 a page are four
// pages and the complete one; with caps of 2 and 4 the last stream would
// carry only the complete page if the provider closed at the cap.
func TestOriginalRequesterFinishesUnderPageCap(t *testing.T) {
	orders := nodetest.Orders(40)
	for _, name := range []string{v1, v0} {
		for _, pageCap := range []int{1, 2, 3, 4, 5} {
			t.Run(fmt.Sprintf("%s/cap %d", name, pageCap), func(t *testing.T) {
				hosts := testnet.New(t, 2)
				nodetest.StartNodeWith(t, hosts[0], orders, nil, []string{name},
					[]ordersync.Option{ordersync.WithMaxRequestsPerStream(pageCap)}, pagination.WithPerPage(10))
				got, rounds := originalSync(t, hosts[1], hosts[0].ID(), name, 10)
				if want := (4 + pageCap - 1) / pageCap; rounds != want {
					t.Errorf("%d rounds, want %d (a stream per %d pages)", rounds, want, pageCap)
				}
				sameHashes(t, got, orders)
			})
		}
	}
}

// sameHashes fails unless got are exactly want's orders, each once.
func sameHashes(t *testing.T, got, want []*zeroex.SignedOrder) {
	t.Helper()
	gotSet, wantSet := nodetest.HashSet(t, got), nodetest.HashSet(t, want)
	if len(gotSet) != len(got) || len(gotSet) != len(wantSet) {
		t.Fatalf("%d orders received, %d distinct; want the provider's %d", len(got), len(gotSet), len(wantSet))
	}
	for h := range wantSet {
		if !gotSet[h] {
			t.Fatalf("%s missing", h)
		}
	}
}
