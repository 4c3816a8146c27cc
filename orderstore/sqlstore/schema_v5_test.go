package sqlstore_test

import (
	"context"
	"database/sql"
	"math/big"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// TestSQLiteMigratesVersion4 opens a SQLite database at schema version 4
// that holds orders, some with a chain ID beyond int64, and finds it at
// version 5: the orders kept, the class served by orders_by_hash, and
// every hash still stored once.
func TestSQLiteMigratesVersion4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	orders := storetest.Orders(0, 60)
	for _, o := range orders[50:] {
		o.ChainID = new(big.Int).Lsh(big.NewInt(1), 70)
		o.ResetHash()
	}
	if err := sqlstore.WriteVersion("sqlite:"+path, 4, orders); err != nil {
		t.Fatal(err)
	}
	s := open(t, "sqlite:"+path)
	db := rawDB(t, "sqlite:"+path)
	var version int
	if err := db.QueryRow("SELECT max(version) FROM ordersync_schema").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if want := []string{"orders_by_expiration", "orders_by_hash", "orders_by_hash_unchained"}; version != 5 || !slices.Equal(indexNames(t, path), want) {
		t.Fatalf("after the migration: version %d, indexes %v; want 5 and %v", version, indexNames(t, path), want)
	}
	checkMigratedToVersion5(t, s, db, orders)
	checkIntegrity(t, path)
}

// checkMigratedToVersion5 checks a store s (db its database) just migrated
// to version 5 from version 4 holding orders (the last 10 with a chain ID
// beyond int64): every order kept once, the snapshot of the class, and
// more orders beyond int64 stored once each however often added.
func checkMigratedToVersion5(t *testing.T, s *sqlstore.Store, db *sql.DB, orders []*zeroex.SignedOrder) {
	t.Helper()
	ctx := context.Background()
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("after the migration: %d orders, want the 60 written", len(got))
	}
	if n, err := s.AddOrders(ctx, orders); err != nil || n != 0 {
		t.Fatalf("adding the migrated orders again: %d new, %v; want 0", n, err)
	}
	if got := s.ReconcileSnapshot(reconcileClass, 64).Count; got != 50 {
		t.Fatalf("the migrated store's snapshot of the class holds %d orders, want 50", got)
	}
	more := storetest.Orders(100, 10)
	for _, o := range more {
		o.ChainID = new(big.Int).Lsh(big.NewInt(1), 70)
		o.ResetHash()
	}
	// Twice in one call, then again: each stored once.
	if n, err := s.AddOrders(ctx, append(slices.Clone(more), more...)); err != nil || n != 10 {
		t.Fatalf("AddOrders of 10 orders beyond int64, each twice: %d new, %v; want 10", n, err)
	}
	if n, err := s.AddOrders(ctx, more); err != nil || n != 0 {
		t.Fatalf("AddOrders of them again: %d new, %v; want 0", n, err)
	}
	var rows int
	if err := db.QueryRow("SELECT count(*) FROM orders").Scan(&rows); err != nil || rows != 70 {
		t.Fatalf("the table has %d rows (%v), want 70", rows, err)
	}
}
