package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// orderMemory is the heap a node holds per stored order, by part.
type orderMemory struct {
	// order is a decoded SignedOrder: the struct, its numbers and its
	// byte fields, as a requester decodes it off a stream.
	order int64
	// hash is the order hash cached on the order.
	hash int64
	// store is orderstore.Memory's share: its B-tree item and nodes.
	store int64
	// encoding is the cached JSON encoding a provider keeps on each order
	// it has served (none with ordersync.WithEncodingCache(false)).
	encoding int64
}

// requester is what a node that syncs holds per order.
func (m orderMemory) requester() int64 { return m.order + m.hash + m.store }

// provider is what a node holds per order once it has served it.
func (m orderMemory) provider() int64 { return m.requester() + m.encoding }

// measureOrderMemory decodes the orders afresh, hashes them, stores them in
// an orderstore.Memory and encodes them, reading the live heap (after a
// collection) between the steps.
func measureOrderMemory(ctx context.Context, orders []*zeroex.SignedOrder) (orderMemory, error) {
	encoded := make([][]byte, len(orders))
	for i, o := range orders {
		enc, err := o.AppendJSONUncached(nil)
		if err != nil {
			return orderMemory{}, fmt.Errorf("order %d: encode: %w", i, err)
		}
		encoded[i] = enc
	}
	held := make([]*zeroex.SignedOrder, len(orders))
	n := int64(len(orders))
	h0 := liveHeap()
	for i, enc := range encoded {
		held[i] = new(zeroex.SignedOrder)
		if err := held[i].UnmarshalJSON(enc); err != nil {
			return orderMemory{}, fmt.Errorf("order %d: decode: %w", i, err)
		}
		// The decoder keeps a copy of the JSON it read, which is exactly
		// the encoding; orderstore.Memory drops it from what it holds, so
		// the order's share is counted without it.
		held[i].ForgetJSON()
	}
	h1 := liveHeap()
	for i, o := range held {
		if _, err := o.ComputeOrderHash(); err != nil {
			return orderMemory{}, fmt.Errorf("order %d: hash: %w", i, err)
		}
	}
	h2 := liveHeap()
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(ctx, held); err != nil {
		return orderMemory{}, err
	}
	h3 := liveHeap()
	for _, o := range held {
		if _, err := o.AppendJSON(nil); err != nil {
			return orderMemory{}, err
		}
	}
	h4 := liveHeap()
	runtime.KeepAlive(encoded)
	runtime.KeepAlive(store)
	// The slice of pointers is the measurement's, not a node's.
	const slot = 8
	return orderMemory{
		order:    (h1-h0)/n - slot,
		hash:     (h2 - h1) / n,
		store:    (h3 - h2) / n,
		encoding: (h4 - h3) / n,
	}, nil
}

// liveHeap is the heap's live bytes, right after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
