package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// pageAllHashes reads the whole store by OrdersAfter, which checks every
// row against its key, and returns the hashes in order.
func pageAllHashes(t testing.TB, s orderstore.Store) []common.Hash {
	t.Helper()
	var all []common.Hash
	var after common.Hash
	for {
		page, err := s.OrdersAfter(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			after = hashOf(t, o)
			all = append(all, after)
		}
		if len(page) < 1000 {
			return all
		}
	}
}

func hashOf(t testing.TB, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sortedHashes(t testing.TB, orders []*zeroex.SignedOrder) []common.Hash {
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		hashes[i] = hashOf(t, o)
	}
	slices.SortFunc(hashes, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
	return hashes
}

// checkIntegrity runs SQLite's own full check of the file.
func checkIntegrity(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check: %s", res)
	}
}
