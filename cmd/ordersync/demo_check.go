package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// orderLister is what the union check reads of a store: every held order
// with its hash. orderstore.Memory has it.
type orderLister interface {
	Each(ctx context.Context, fn func(hash common.Hash, order *zeroex.SignedOrder) bool) error
}

// unionOf returns the set of hashes of every order in the given sets.
func unionOf(sets ...[]*zeroex.SignedOrder) (map[common.Hash]struct{}, error) {
	union := make(map[common.Hash]struct{})
	for _, set := range sets {
		for _, o := range set {
			h, err := o.ComputeOrderHash()
			if err != nil {
				return nil, fmt.Errorf("hash of a generated order: %w", err)
			}
			union[h] = struct{}{}
		}
	}
	return union, nil
}

// checkHoldsExactly returns an error unless store holds exactly the orders
// whose hashes are in want: none missing, none extra. The error counts both
// and names the first hash of each kind, so a failure can be looked into.
func checkHoldsExactly(ctx context.Context, store orderLister, want map[common.Hash]struct{}) error {
	var (
		found, extra int
		firstExtra   common.Hash
	)
	seen := make(map[common.Hash]struct{}, len(want))
	err := store.Each(ctx, func(h common.Hash, _ *zeroex.SignedOrder) bool {
		if _, ok := want[h]; !ok {
			if extra == 0 {
				firstExtra = h
			}
			extra++
			return true
		}
		if _, dup := seen[h]; !dup {
			seen[h] = struct{}{}
			found++
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("reading the store: %w", err)
	}
	missing := len(want) - found
	if missing == 0 && extra == 0 {
		return nil
	}
	msg := fmt.Sprintf("holds %d of the providers' %d orders", found, len(want))
	if missing > 0 {
		msg += fmt.Sprintf(", %d missing (first: %s)", missing, firstMissing(want, seen).Hex())
	}
	if extra > 0 {
		msg += fmt.Sprintf(", %d not held by any provider (first: %s)", extra, firstExtra.Hex())
	}
	return fmt.Errorf("%s", msg)
}

// firstMissing returns the lowest hash of want that is not in seen.
func firstMissing(want, seen map[common.Hash]struct{}) common.Hash {
	var low common.Hash
	first := true
	for h := range want {
		if _, ok := seen[h]; ok {
			continue
		}
		if first || bytes.Compare(h[:], low[:]) < 0 {
			low, first = h, false
		}
	}
	return low
}
