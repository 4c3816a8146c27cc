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

func TestMemoryConfiguredConformance(t *testing.T) {
	storetest.RunConfigured(t, func(t *testing.T, cfg storetest.Config) orderstore.Store {
		opts := []orderstore.MemoryOption{orderstore.WithClock(cfg.Now), orderstore.WithCapacity(cfg.Capacity)}
		if cfg.Expiry {
			opts = append(opts, orderstore.WithExpiry(cfg.Margin))
		}
		m := orderstore.NewMemory(opts...)
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}
