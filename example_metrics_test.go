package ordersync_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
)

// A node exports ordersync's Prometheus series by giving its Service a
// tracer; Stats counts the same events either way.
func ExampleNewMetricsTracer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	// A registry of our own; without WithRegisterer the tracer uses
	// prometheus.DefaultRegisterer, which promhttp.Handler serves.
	reg := prometheus.NewRegistry()
	tracer := ordersync.NewMetricsTracer(ordersync.WithRegisterer(reg))
	store := orderstore.NewMemory()
	service := ordersync.New(ctx, ordersync.NewHostNode(h),
		[]ordersync.Subprotocol{filteredpagination.New(store, nil)},
		ordersync.WithMetricsTracer(tracer))

	// Serve it where Prometheus scrapes, e.g. with
	// http.ListenAndServe("127.0.0.1:9090", mux).
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	fmt.Println("orders received so far:", service.Stats().OrdersReceived)
	// Output:
	// orders received so far: 0
}

// slowPages is a tracer of one's own: it embeds NoopMetricsTracer and
// implements only the event it needs.
type slowPages struct {
	ordersync.NoopMetricsTracer
	slow atomic.Int64
}

// PageReceived counts the pages whose round trip took over a second.
func (s *slowPages) PageReceived(_ peer.ID, _ string, roundTrip time.Duration, _, _ int) {
	if roundTrip > time.Second {
		s.slow.Add(1)
	}
}

func ExampleNoopMetricsTracer() {
	tracer := &slowPages{}
	_ = ordersync.WithMetricsTracer(tracer) // pass it to ordersync.New
	tracer.PageReceived("", filteredpagination.Name, 2*time.Second, 500, 500)
	fmt.Println("slow pages:", tracer.slow.Load())
	// Output:
	// slow pages: 1
}
