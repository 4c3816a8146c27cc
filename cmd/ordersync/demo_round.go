package main

import (
	"context"
	"sync"
	"time"

	"github.com/ordersync/ordersync"
)

// demoPeriodicDelay is the approxDelay the demo gives PeriodicallyGetOrders.
// It is far longer than any backoff of GetOrders (at most a minute), so
// that roundWatch can tell the wait after a round from the waits within
// one; the demo never sits through it.
const demoPeriodicDelay = time.Hour

// roundWatch tells when PeriodicallyGetOrders has finished its first round
// of GetOrders: it is the Service's timer (ordersync.WithTimer), and the
// first wait of about demoPeriodicDelay is the one between rounds.
type roundWatch struct {
	once sync.Once
	done chan struct{}
}

func newRoundWatch() *roundWatch { return &roundWatch{done: make(chan struct{})} }

// option makes the Service wait through w.
func (w *roundWatch) option() ordersync.Option { return ordersync.WithTimer(w.after) }

func (w *roundWatch) after(d time.Duration) <-chan time.Time {
	if d >= demoPeriodicDelay/2 {
		w.once.Do(func() { close(w.done) })
		// Never fires: the demo cancels the context instead.
		return nil
	}
	return time.After(d)
}

// periodicRound runs PeriodicallyGetOrders until its first round of
// GetOrders is over, then stops it. A failure of that round is returned.
func periodicRound(ctx context.Context, n *syncNode, w *roundWatch, minPeers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- n.service.PeriodicallyGetOrders(ctx, minPeers, demoPeriodicDelay) }()
	select {
	case <-w.done:
		cancel()
		<-errc // ends with our cancellation
		return nil
	case err := <-errc:
		return err
	}
}
