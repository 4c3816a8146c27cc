package ordersync

import (
	"sync"
	"testing"

	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

var (
	benchOrdersOnce sync.Once
	benchOrders     []*zeroex.SignedOrder
)

// benchmarkOrders are 5000 signed orders, made once per process.
func benchmarkOrders() []*zeroex.SignedOrder {
	benchOrdersOnce.Do(func() { benchOrders = orders(99, 5000) })
	return benchOrders
}

// BenchmarkSync5000 syncs 5000 orders, 500 a page as on the network, from
// one provider over real loopback hosts with the rate limit off; the
// requester trusts the signatures, so this is the cost of the Service and
// the transport.
func BenchmarkSync5000(b *testing.B) {
	all := benchmarkOrders()
	hosts := testnet.New(b, 2)
	off := []Option{WithLogger(quietLogger(b)), WithRateLimit(rate.Inf, 0), WithPeerRateLimit(rate.Inf, 0)}
	newService(b, hosts[1], []Subprotocol{newPager("/test/a", all, 500)}, off...)
	req := newPager("/test/a", nil, 500)
	req.trust, req.discard = true, true
	requester := newService(b, hosts[0], []Subprotocol{req}, off...)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := requester.GetOrders(b.Context(), 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(all))/b.Elapsed().Seconds(), "orders/s")
}
