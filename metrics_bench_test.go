package ordersync

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkTracerPage is what one page costs in events on the requester's
// side (the bytes read and written, the page, two rejection reasons and the
// new orders), through the Service's tracer: its Stats alone, and with the
// Prometheus tracer behind them. A 500-order page takes some 20 ms to sync.
func BenchmarkTracerPage(b *testing.B) {
	for _, bc := range []struct {
		name string
		user MetricsTracer
	}{
		{"stats", nil},
		{"stats+prometheus", NewMetricsTracer(WithRegisterer(prometheus.NewRegistry()))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := new(stats)
			t := serviceTracer{stats: st, user: bc.user}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t.BytesWritten(RoleRequester, "p", 120)
					t.BytesRead(RoleRequester, "p", 480_000)
					t.PageReceived("p", "/pagination-with-filter/version/1", 5*time.Millisecond, 500, 495)
					t.OrdersRejected("p", RejectBadSignature, 3)
					t.OrdersRejected("p", RejectFilterMismatch, 2)
					t.OrdersStored("p", 495)
				}
			})
		})
	}
}
