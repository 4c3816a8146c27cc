package ordersync_test

import (
	"context"
	"testing"

	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/testing/testnet"
)

// inTurns hides a subprotocol's Pipeliner, so that the requester asks for
// each page only after checking the one before.
type inTurns struct{ ordersync.Subprotocol }

// BenchmarkPipelinedSync syncs 10 000 orders, 500 a page, with
// /pagination-with-filter/version/1 over loopback into an empty store,
// signatures checked, rate limits off: "pipelined" asks for page k+1
// before checking page k and reads it meanwhile; "in-turns" does not.
func BenchmarkPipelinedSync(b *testing.B) {
	orders := ordergen.Generate(ordergen.Options{Seed: 3, Count: 10_000})
	for _, bc := range []struct {
		name string
		wrap func(ordersync.Subprotocol) ordersync.Subprotocol
	}{
		{"pipelined", func(s ordersync.Subprotocol) ordersync.Subprotocol { return s }},
		{"in-turns", func(s ordersync.Subprotocol) ordersync.Subprotocol { return inTurns{s} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hosts := testnet.New(b, 2)
			ctx, cancel := context.WithCancel(context.Background())
			b.Cleanup(cancel)
			off := []ordersync.Option{
				ordersync.WithLogger(testLogger(b)),
				ordersync.WithRateLimit(rate.Inf, 0),
				ordersync.WithPeerRateLimit(rate.Inf, 0),
			}
			provided := orderstore.NewMemory()
			if _, err := provided.AddOrders(ctx, orders); err != nil {
				b.Fatal(err)
			}
			ordersync.New(ctx, ordersync.NewHostNode(hosts[1]), []ordersync.Subprotocol{filteredpagination.New(provided, nil)}, off...)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				// A fresh store and subprotocol: every order is new and
				// its signature checked.
				runCtx, stop := context.WithCancel(ctx)
				sub := bc.wrap(filteredpagination.New(orderstore.NewMemory(), nil))
				requester := ordersync.New(runCtx, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{sub}, off...)
				b.StartTimer()
				err := requester.GetOrders(runCtx, 1)
				b.StopTimer()
				stop()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*len(orders))/b.Elapsed().Seconds(), "orders/s")
		})
	}
}
