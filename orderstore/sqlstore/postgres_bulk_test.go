package sqlstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// postgresIndexNames lists the indexes on orders in the PostgreSQL
// database at url.
func postgresIndexNames(t *testing.T, url string) []string {
	t.Helper()
	return queryNames(t, "pgx", url, "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'orders' ORDER BY indexname")
}

// postgresOrdersOptions is the storage parameters of orders, comma-separated.
func postgresOrdersOptions(t *testing.T, url string) string {
	t.Helper()
	return queryNames(t, "pgx", url, "SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'orders'::regclass")[0]
}

// A bulk load into a new PostgreSQL database defers the secondary indexes
// and builds them at its end; the orders are there, each once, throughout.
func TestPostgresBulkLoad(t *testing.T) {
	ctx := context.Background()
	url := pgtestDatabase(t)
	s := open(t, url)
	all := postgresIndexNames(t, url)
	end, err := s.StartBulkLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := postgresIndexNames(t, url); !slices.Equal(got, []string{"orders_pkey"}) {
		t.Fatalf("during the load: indexes %v, want only orders_pkey", got)
	}
	if got := postgresOrdersOptions(t, url); got != "autovacuum_enabled=false" {
		t.Fatalf("during the load: storage parameters %q, want autovacuum off", got)
	}
	defer func() {
		if got := postgresOrdersOptions(t, url); got != "" {
			t.Errorf("after the load: storage parameters %q, want none", got)
		}
	}()
	// A second load, by this Store or another process, finds one under way.
	other := open(t, url)
	if _, err := other.StartBulkLoad(ctx); err != nil {
		t.Fatal(err)
	}
	checkBulkLoad(t, s, end, func() []string { return postgresIndexNames(t, url) }, all)
}

// A process that stops mid-load (here: closes without ending it, which
// leaves the database as a kill would after the last commit) leaves its
// orders committed, and the next Open builds the indexes.
func TestPostgresBulkLoadInterrupted(t *testing.T) {
	ctx := context.Background()
	url := pgtestDatabase(t)
	s, err := sqlstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	all := postgresIndexNames(t, url)
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
	s = open(t, url)
	if got := postgresIndexNames(t, url); !slices.Equal(got, all) {
		t.Fatalf("reopened: indexes %v, want %v", got, all)
	}
	if got := postgresOrdersOptions(t, url); got != "" {
		t.Fatalf("reopened: storage parameters %q, want none", got)
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("reopened: %d orders, want %d", len(got), len(want))
	}
}
