package sqlstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// TestPostgresMigratesVersion5 opens a PostgreSQL database at schema
// version 5 that holds orders and finds it at version 6: the columns
// order_json repeats gone, the orders stored before read back whole, and
// new ones added beside them.
func TestPostgresMigratesVersion5(t *testing.T) {
	ctx := context.Background()
	url := pgtestDatabase(t)
	orders := storetest.Orders(0, 80)
	if err := sqlstore.WriteVersion(url, 5, orders[:50]); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	columns := queryNames(t, "pgx", url, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'orders' ORDER BY column_name`)
	want := []string{"added_at", "chain_id", "exchange_address", "expiration_time_seconds", "hash", "order_json", "pinned"}
	if !slices.Equal(columns, want) {
		t.Fatalf("after the migration: columns %v, want %v", columns, want)
	}
	if n, err := s.AddOrders(ctx, orders); err != nil || n != 30 {
		t.Fatalf("AddOrders of 50 stored and 30 new orders: %d new, %v; want 30", n, err)
	}
	for i, o := range orders {
		if got, ok := s.Get(hashOf(t, o)); !ok || !got.Equal(o) {
			t.Fatalf("order %d: not read back as added", i)
		}
	}
}
