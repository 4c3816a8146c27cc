package sqlstore

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/ordersync/ordersync/internal/orderjson"
	"github.com/ordersync/ordersync/internal/parallel"
	"github.com/ordersync/ordersync/zeroex"
)

// row is one order as AddOrders writes it, in orderColumns' order.
type row [numColumns]any

// minRowsPerWorker is the smallest share of a batch worth a goroutine:
// hashing and encoding take a few microseconds an order.
const minRowsPerWorker = 64

// makeRows hashes and encodes orders into rows, on all cores for a large
// batch, and sorts them by hash. A nil order or one that cannot be hashed
// or encoded fails the whole batch, naming its index.
//
// Sorted, a batch's inserts walk the primary key's B-tree (and the indexes
// that end in the hash) from left to right, so each page is read and
// dirtied once while the batch runs, however small the page cache is
// against the table.
func makeRows(orders []*zeroex.SignedOrder) ([]row, error) {
	rows := make([]row, len(orders))
	errs := make([]error, len(orders))
	now := time.Now().Unix()
	parallel.For(len(orders), minRowsPerWorker, func(i int) {
		errs[i] = fillRow(&rows[i], orders[i], now)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("sqlstore: order %d: %w", i, err)
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return bytes.Compare(a[0].([]byte), b[0].([]byte))
	})
	return rows, nil
}

func fillRow(r *row, o *zeroex.SignedOrder, now int64) error {
	if o == nil {
		return fmt.Errorf("nil")
	}
	hash, err := o.ComputeOrderHash()
	if err != nil {
		return err
	}
	// The order's cached encoding when it has one (a decoded order keeps
	// the bytes it arrived as when they are exactly that), read in place:
	// the driver only copies it into the row. Otherwise encoded uncached:
	// the row is the store's copy, and a cache would keep a second one on
	// the order for as long as the caller keeps it (an import's chunk, a
	// sync's page).
	js := orderjson.Cached(o)
	if js == nil {
		if js, err = o.AppendJSONUncached(nil); err != nil {
			return err
		}
	}
	*r = row{
		hash.Bytes(),
		chainID(o.ChainID),
		o.ExchangeAddress.Bytes(),
		o.MakerAddress.Bytes(),
		o.TakerAddress.Bytes(),
		o.FeeRecipientAddress.Bytes(),
		o.SenderAddress.Bytes(),
		nonNil(o.MakerAssetData),
		nonNil(o.TakerAssetData),
		clampInt64(o.ExpirationTimeSeconds),
		now,
		js,
	}
	return nil
}

// chainID is the chain ID column: NULL for a chain ID beyond int64, which
// no chain has but a peer may send.
func chainID(n *big.Int) any {
	if n == nil || !n.IsInt64() {
		return nil
	}
	return n.Int64()
}

// clampInt64 is n limited to [0, MaxInt64]: an expiration past 2^63
// seconds is as good as never.
func clampInt64(n *big.Int) int64 {
	switch {
	case n == nil || n.Sign() <= 0:
		return 0
	case !n.IsInt64():
		return math.MaxInt64
	}
	return n.Int64()
}

// nonNil is b, or an empty slice for nil: the drivers write nil as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
