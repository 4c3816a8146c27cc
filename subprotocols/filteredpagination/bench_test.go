package filteredpagination

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// pageJSON returns a provider's page of n orders, ascending by hash, as
// JSON, so that each benchmark round can decode fresh orders without
// cached hashes, as they come off the wire.
func pageJSON(b *testing.B, n int) []byte {
	b.Helper()
	orders := ordergen.Generate(ordergen.Options{Seed: 3, Count: n})
	slices.SortFunc(orders, func(x, y *zeroex.SignedOrder) int {
		hx, _ := x.ComputeOrderHash()
		hy, _ := y.ComputeOrderHash()
		return bytes.Compare(hx[:], hy[:])
	})
	data, err := json.Marshal(orders)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkHandleOrderSyncResponse measures the requester's hot path on a
// page of 500 fresh orders: hashing, range checks, signature verification
// on all cores, the filter, and storing.
func BenchmarkHandleOrderSyncResponse(b *testing.B) {
	const perPage = 500
	data := pageJSON(b, perPage)
	custom, err := orderfilter.New(ordergen.DefaultChainID,
		`{"properties":{"makerAssetData":{"pattern":"^0xf47261b0"},"takerFee":{"const":"0"}}}`, ordergen.DefaultExchange)
	if err != nil {
		b.Fatal(err)
	}
	deflt, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		filter *orderfilter.Filter
	}{{"no filter", nil}, {"default filter", deflt}, {"custom schema", custom}} {
		b.Run(bc.name, func(b *testing.B) {
			provider := peer.ID("provider")
			done := &ordersync.Response{ProviderID: provider, Complete: true, Orders: []*zeroex.SignedOrder{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var orders []*zeroex.SignedOrder
				if err := json.Unmarshal(data, &orders); err != nil {
					b.Fatal(err)
				}
				s := New(orderstore.NewMemory(), bc.filter)
				res := &ordersync.Response{ProviderID: provider, Orders: orders, Metadata: &ResponseMetadata{}}
				b.StartTimer()
				next, valid, err := s.HandleOrderSyncResponse(context.Background(), res)
				if err != nil || valid != perPage || next == nil {
					b.Fatalf("valid %d, next %v, err %v", valid, next, err)
				}
				b.StopTimer()
				if _, _, err := s.HandleOrderSyncResponse(context.Background(), done); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perPage), "ns/order")
		})
	}
}

// BenchmarkHandleOrderSyncRequest measures a provider's page of 500 from a
// store of 20 000 orders, without a filter and with one that a tenth of
// the orders match (so that a page scans about 5000 orders).
func BenchmarkHandleOrderSyncRequest(b *testing.B) {
	orders := ordergen.Generate(ordergen.Options{Seed: 3, Count: 20_000})
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		b.Fatal(err)
	}
	sparse, err := orderfilter.New(ordergen.DefaultChainID,
		`{"properties":{"makerAddress":{"const":"`+strings.ToLower(orders[0].MakerAddress.Hex())+`"}}}`, ordergen.DefaultExchange)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		filter *orderfilter.Filter
	}{{"no filter", nil}, {"a tenth match", sparse}} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(store, nil)
			md := &RequestMetadata{OrderFilter: bc.filter}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: md})
				if err != nil {
					b.Fatal(err)
				}
				if res.Complete {
					md.MinOrderHash = common.Hash{}
					continue
				}
				md.MinOrderHash = res.Metadata.(*ResponseMetadata).NextMinOrderHash
			}
		})
	}
}
