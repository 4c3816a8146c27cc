// Package subtest holds the tests that the instances of
// pagination.Subprotocol (filteredpagination, ordinal) have in common,
// written once.
// Each subprotocol's _test files call them with what is its own: its New,
// its metadata JSON and types, its cursor. Only _test files import it.
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package subtest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// Subprotocol is what a subprotocol under test implements.
type Subprotocol interface {
	ordersync.Subprotocol
	ordersync.Pipeliner
}

// New is a subprotocol package's New.
type New[S Subprotocol] func(orderstore.Store, *orderfilter.Filter, ...pagination.Option) S

// SortedOrders returns n orders of ordergen's stream seed, ascending by
// hash, and their hashes.
func SortedOrders(t testing.TB, seed int64, n int) ([]*zeroex.SignedOrder, []common.Hash) {
	t.Helper()
	orders := ordergen.Generate(ordergen.Options{Seed: seed, Count: n})
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

// DefaultFilter is the default filter of ordergen's chain and exchange.
func DefaultFilter(t testing.TB) *orderfilter.Filter {
	t.Helper()
	f, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Parse runs metadata through s's ParseRequestMetadata, as the Service
// does, and returns the request that carries it.
func Parse(t testing.TB, s ordersync.Subprotocol, md string) *ordersync.Request {
	t.Helper()
	v, err := s.ParseRequestMetadata(json.RawMessage(md))
	if err != nil {
		t.Fatal(err)
	}
	return &ordersync.Request{RequesterID: "requester", Metadata: v}
}

// NewStore returns a memory store holding orders.
func NewStore(t testing.TB, orders []*zeroex.SignedOrder) *orderstore.Memory {
	t.Helper()
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	return store
}
