package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
)

// demoPeriodicDelay is the approxDelay the demo gives PeriodicallyGetOrders:
// far longer than the demo runs, so that the wait after the round it
// watches never ends; the demo stops it instead.
const demoPeriodicDelay = time.Hour

// roundWatch tells when PeriodicallyGetOrders has finished its first round
// of GetOrders: it is the Service's MetricsTracer, and the first
// GetOrdersEnded after arm is that round's end.
type roundWatch struct {
	ordersync.NoopMetricsTracer
	armed atomic.Bool
	once  sync.Once
	done  chan struct{}
	err   error // what that GetOrders returned; read after done
}

func newRoundWatch() *roundWatch { return &roundWatch{done: make(chan struct{})} }

// option makes the Service report to w.
func (w *roundWatch) option() ordersync.Option { return ordersync.WithMetricsTracer(w) }

// arm makes the next GetOrders that ends close w.done. The GetOrders calls
// before it (the demo's own) have reported their end already: GetOrders
// reports it before it returns.
func (w *roundWatch) arm() { w.armed.Store(true) }

// GetOrdersEnded closes w.done at the first end after arm.
func (w *roundWatch) GetOrdersEnded(_, _ int, _ time.Duration, err error) {
	if w.armed.Load() {
		w.once.Do(func() {
			w.err = err
			close(w.done)
		})
	}
}

// periodicRound runs PeriodicallyGetOrders until its first round of
// GetOrders is over, then stops it. A failure of that round is returned.
func periodicRound(ctx context.Context, n *cli.SyncNode, w *roundWatch, minPeers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.arm()
	errc := make(chan error, 1)
	go func() { errc <- n.Service.PeriodicallyGetOrders(ctx, minPeers, demoPeriodicDelay) }()
	select {
	case <-w.done:
		cancel()
		<-errc // ends with our cancellation, or that round's error
		if w.err != nil {
			return fmt.Errorf("ordersync: PeriodicallyGetOrders: %w", w.err)
		}
		return nil
	case err := <-errc:
		return err
	}
}
