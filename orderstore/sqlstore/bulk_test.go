package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// indexNames lists the indexes on orders in the SQLite file at path.
func indexNames(t *testing.T, path string) []string {
	t.Helper()
	return queryNames(t, "sqlite", path, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL ORDER BY name")
}

// queryNames returns the one text column of query's rows, read from the
// database driver opens at dsn.
func queryNames(t *testing.T, driver, dsn, query string) []string {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// A bulk load defers the secondary indexes of a new database and builds
// them at its end; the orders are there, each once, throughout.
func TestSQLiteBulkLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orders.db")
	s := open(t, "sqlite:"+path)
	all := indexNames(t, path)
	end, err := s.StartBulkLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := indexNames(t, path); !slices.Equal(got, []string{"orders_by_hash", "orders_by_hash_unchained"}) {
		t.Fatalf("during the load: indexes %v, want only the unique ones", got)
	}
	checkBulkLoad(t, s, end, func() []string { return indexNames(t, path) }, all)
	checkIntegrity(t, path)
}

// A process that stops mid-load (here: closes without ending it, which
// leaves the file as a kill would after the last commit) leaves its orders
// committed, and the next Open builds the indexes.
func TestSQLiteBulkLoadInterrupted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "orders.db")
	s, err := sqlstore.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	all := indexNames(t, path)
	if _, err := s.StartBulkLoad(ctx); err != nil {
		t.Fatal(err)
	}
	orders := storetest.Orders(0, 100)
	if n, err := s.AddOrders(ctx, orders); err != nil || n != 100 {
		t.Fatalf("AddOrders: %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, "sqlite:"+path)
	if got := indexNames(t, path); !slices.Equal(got, all) {
		t.Fatalf("reopened: indexes %v, want %v", got, all)
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("reopened: %d orders, want %d", len(got), len(want))
	}
	checkIntegrity(t, path)
}

// checkBulkLoad adds 300 orders to s in two overlapping calls during the
// load that end closes, ends it twice (the second time is a no-op), and
// checks that the indexes are all back and every order is held; then that
// a load into the store, no longer empty, drops nothing.
func checkBulkLoad(t *testing.T, s *sqlstore.Store, end func(context.Context) error, indexes func() []string, all []string) {
	t.Helper()
	ctx := context.Background()
	orders := storetest.Orders(0, 300)
	if n, err := s.AddOrders(ctx, orders[:200]); err != nil || n != 200 {
		t.Fatalf("AddOrders: %d, %v", n, err)
	}
	if n, err := s.AddOrders(ctx, orders[100:]); err != nil || n != 100 {
		t.Fatalf("AddOrders with 100 stored: %d new, %v; want 100", n, err)
	}
	for i := 0; i < 2; i++ {
		if err := end(ctx); err != nil {
			t.Fatalf("end %d: %v", i, err)
		}
	}
	if got := indexes(); !slices.Equal(got, all) {
		t.Fatalf("after the load: indexes %v, want %v", got, all)
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("after the load: %d orders, want %d", len(got), len(want))
	}

	// Not empty now: another load changes nothing.
	end, err := s.StartBulkLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := indexes(); !slices.Equal(got, all) {
		t.Fatalf("a load into a store that holds orders dropped indexes: %v", got)
	}
	if err := end(ctx); err != nil {
		t.Fatal(err)
	}
}
