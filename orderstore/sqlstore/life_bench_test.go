package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// openSQLiteLife opens a new SQLite store with expiry and a capacity its
// benchmark never reaches: what an add and a page cost through the
// writer's judgment and the reads' expiry condition.
func openSQLiteLife(b *testing.B) *sqlstore.Store {
	return open(b, "sqlite:"+filepath.Join(b.TempDir(), "orders.db"), sqlstore.WithExpiry(0), sqlstore.WithCapacity(10_000_000))
}

func BenchmarkLifeAddOrders(b *testing.B) {
	storetest.BenchmarkAddOrders(b, func(b *testing.B) orderstore.Store { return openSQLiteLife(b) })
}

func BenchmarkLifeOrdersAfter(b *testing.B) {
	storetest.BenchmarkOrdersAfter(b, openSQLiteLife(b))
}
