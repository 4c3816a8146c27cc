package sqlstore_test

import (
	"testing"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

func BenchmarkAddOrders(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		storetest.BenchmarkAddOrders(b, func(b *testing.B) orderstore.Store { return openSQLite(b) })
	})
	b.Run("postgres", func(b *testing.B) {
		storetest.BenchmarkAddOrders(b, func(b *testing.B) orderstore.Store { return openPostgres(b) })
	})
}

func BenchmarkOrdersAfter(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { storetest.BenchmarkOrdersAfter(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchmarkOrdersAfter(b, openPostgres(b)) })
}
