package ordersync

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ordersync/ordersync/testing/testnet"
)

// Close cuts off a sync under way and a stream being served, waits for
// both, removes the handler, and leaves nothing running; a second Close
// and later calls are harmless.
func TestCloseStopsServiceAndWaits(t *testing.T) {
	hosts := testnet.New(t, 2)
	ignore := goleak.IgnoreCurrent()

	serving := make(chan struct{}, 1)
	provSub := newPager("/test/a", orders(1, 4), 2)
	provSub.block = func(ctx context.Context, _ int) error {
		serving <- struct{}{}
		<-ctx.Done() // until the provider closes: longer than any test
		return ctx.Err()
	}
	provider := New(context.Background(), NewHostNode(hosts[1]), []Subprotocol{provSub}, testOptions(t, 1)...)
	requester := New(context.Background(), NewHostNode(hosts[0]), []Subprotocol{newPager("/test/a", nil, 2)}, testOptions(t, 1)...)

	synced := make(chan error, 1)
	go func() { synced <- requester.GetOrders(context.Background(), 1) }()
	<-serving // the requester waits for a response the provider holds back

	if err := requester.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-synced:
		if !errors.Is(err, ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Errorf("GetOrders cut off by Close: %v; want ErrClosed and context.Canceled", err)
		}
	default:
		t.Fatal("GetOrders still running after Close returned")
	}

	closed := make(chan struct{})
	go func() {
		_ = provider.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(20 * time.Second): // a hang guard only
		t.Fatal("provider's Close did not cut off the stream it was serving")
	}
	if err := provider.Close(); err != nil { // twice
		t.Fatal(err)
	}

	if slices.Contains(hosts[1].Mux().Protocols(), ID) {
		t.Error("a closed provider still has a stream handler")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := requester.GetOrders(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("GetOrders after Close: %v, want ErrClosed", err)
	}
	if err := requester.PeriodicallyGetOrders(ctx, 1, time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("PeriodicallyGetOrders after Close: %v, want ErrClosed", err)
	}
	goleak.VerifyNone(t, ignore)
}

// Close from several goroutines at once: every call returns once the
// Service has stopped.
func TestCloseConcurrently(t *testing.T) {
	h := testnet.NewHost(t)
	s := New(context.Background(), NewHostNode(h), []Subprotocol{newPager("/test/a", nil, 1)}, testOptions(t, 1)...)
	done := make(chan struct{})
	for range 4 {
		go func() {
			_ = s.Close()
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	if s.life.ctx.Err() == nil {
		t.Fatal("Service's context not cancelled by Close")
	}
}
