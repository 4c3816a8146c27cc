package orderstore_test

import (
	"testing"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) orderstore.Store { return orderstore.NewMemory() })
}

func BenchmarkAddOrders(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		storetest.BenchmarkAddOrders(b, func(*testing.B) orderstore.Store { return orderstore.NewMemory() })
	})
}

func BenchmarkOrdersAfter(b *testing.B) {
	b.Run("memory", func(b *testing.B) { storetest.BenchmarkOrdersAfter(b, orderstore.NewMemory()) })
}
