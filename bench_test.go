package ordersync

import (
	"encoding/json"
	"sync"
	"testing"

	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/internal/testnet"
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

// BenchmarkAppendResponse encodes a 500-order response the way the provider
// does; BenchmarkMarshalResponse is json.Marshal of the same, for
// comparison.
func BenchmarkAppendResponse(b *testing.B) {
	h := testnet.NewHost(b)
	s := newService(b, h, []Subprotocol{newPager("/test/a", nil, 1)}, WithLogger(quietLogger(b)))
	resp := &Response{Orders: benchmarkOrders()[:500], Metadata: pageResponseMeta{Next: 500}}
	buf, _ := s.appendResponse(nil, "/test/a", resp) // warm the orders' cached encodings
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var err error
		if buf, err = s.appendResponse(buf[:0], "/test/a", resp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalResponse(b *testing.B) {
	raw := rawResponse{Type: TypeResponse, Subprotocol: "/test/a", Orders: benchmarkOrders()[:500], Metadata: json.RawMessage(`{"next":500}`)}
	buf, _ := json.Marshal(raw)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := json.Marshal(raw); err != nil {
			b.Fatal(err)
		}
	}
}
