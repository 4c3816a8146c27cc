package orderstore

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkMemoryAddOrders measures adding pages of 500 new orders whose
// hashes are already cached, as after a requester's validation.
func BenchmarkMemoryAddOrders(b *testing.B) {
	const page = 500
	orders := testOrders(0, page*64)
	for _, o := range orders {
		mustHash(b, o)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var m *Memory
	for i := 0; i < b.N; i++ {
		j := i % 64
		if j == 0 {
			b.StopTimer()
			m = NewMemory()
			b.StartTimer()
		}
		if _, err := m.AddOrders(context.Background(), orders[j*page:(j+1)*page]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*page), "ns/order")
}

// BenchmarkMemoryOrdersAfter measures a provider's page of 500 from a store
// of 100 000 orders.
func BenchmarkMemoryOrdersAfter(b *testing.B) {
	const size, page = 100_000, 500
	m := NewMemory()
	mustAdd(b, m, testOrders(0, size))
	b.ReportAllocs()
	b.ResetTimer()
	var after common.Hash
	for i := 0; i < b.N; i++ {
		orders, err := m.OrdersAfter(context.Background(), after, page)
		if err != nil {
			b.Fatal(err)
		}
		if len(orders) < page {
			after = common.Hash{}
			continue
		}
		after = mustHash(b, orders[len(orders)-1])
	}
}

// BenchmarkMemoryGet measures looking up stored orders by hash, as a
// requester does for every order of a page before checking signatures.
func BenchmarkMemoryGet(b *testing.B) {
	const size = 100_000
	m := NewMemory()
	orders := testOrders(0, size)
	mustAdd(b, m, orders)
	hashes := make([]common.Hash, size)
	for i, o := range orders {
		hashes[i] = mustHash(b, o)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := m.Get(hashes[i%size]); !ok {
			b.Fatal("stored order not found")
		}
	}
}
