package sqlstore_test

import (
	"math/big"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// TestPostgresMigratesVersion4 opens a PostgreSQL database at schema
// version 4 that holds orders, some with a chain ID beyond int64, and finds
// it at the current version, 7: the orders kept, orders_by_class gone (the
// primary key carries the class), and every hash still stored once.
func TestPostgresMigratesVersion4(t *testing.T) {
	url := pgtestDatabase(t)
	orders := storetest.Orders(0, 60)
	for _, o := range orders[50:] {
		o.ChainID = new(big.Int).Lsh(big.NewInt(1), 70)
		o.ResetHash()
	}
	if err := sqlstore.WriteVersion(url, 4, orders); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	db := rawDB(t, url)
	var version int
	if err := db.QueryRow("SELECT max(version) FROM ordersync_schema").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if want := []string{"orders_by_expiration", "orders_pkey"}; version != 7 || !slices.Equal(postgresIndexNames(t, url), want) {
		t.Fatalf("after the migration: version %d, indexes %v; want 7 and %v", version, postgresIndexNames(t, url), want)
	}
	checkMigratedToVersion5(t, s, db, orders)
}
