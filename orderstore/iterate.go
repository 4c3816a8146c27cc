package orderstore

import (
	"context"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// rangeBatch is how many orders Range copies out per read lock. Between
// batches writers get their turn, so iterating a large store does not stall
// them.
const rangeBatch = 256

// Range calls fn on every order whose hash is strictly greater than after,
// in ascending hash order, until fn returns false or ctx ends (then it
// returns ctx's error).
//
// fn runs without the store's lock held, so it may call the store. Range
// reads the store in batches: orders added or removed during the iteration
// show up (or not) depending on whether their batch has been read yet, but
// no order is visited twice and the order of visits stays ascending.
func (m *Memory) Range(ctx context.Context, after common.Hash, fn func(hash common.Hash, order *zeroex.SignedOrder) bool) error {
	return m.iterate(ctx, after, false, fn)
}

// Each calls fn on every order in ascending hash order, until fn returns
// false or ctx ends (then it returns ctx's error). Like Range, it reads in
// batches and runs fn without the lock held.
func (m *Memory) Each(ctx context.Context, fn func(hash common.Hash, order *zeroex.SignedOrder) bool) error {
	return m.iterate(ctx, common.Hash{}, true, fn)
}

// iterate is Range, and with inclusive set also visits an order whose hash
// equals after (only Each needs that, for the zero hash).
func (m *Memory) iterate(ctx context.Context, after common.Hash, inclusive bool, fn func(common.Hash, *zeroex.SignedOrder) bool) error {
	batch := make([]memoryItem, 0, rangeBatch)
	collect := func(item memoryItem) bool {
		batch = append(batch, item)
		return len(batch) < rangeBatch
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch = batch[:0]
		m.expireDue()
		m.mu.RLock()
		if inclusive {
			m.tree.AscendGreaterOrEqual(probe(&after), collect)
			inclusive = false
		} else {
			m.ascendAfter(after, collect)
		}
		m.mu.RUnlock()
		for _, item := range batch {
			if !fn(item.hash(), item.order) {
				return nil
			}
		}
		if len(batch) < rangeBatch {
			return nil
		}
		after = batch[len(batch)-1].hash()
	}
}
