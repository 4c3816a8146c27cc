package ordersync

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/testnet"
)

// A SyncPeer that joined a running sync whose caller then gave up does
// not inherit that caller's context error: it runs a sync of its own.
// Meanwhile there is only ever one sync with the provider.
func TestJoinerSyncsWhenTheRunningSyncIsCancelled(t *testing.T) {
	hosts := testnet.New(t, 2)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	var started atomic.Bool
	p := newPager("/test/a", orders(7, 3), 10)
	p.block = func(ctx context.Context, offset int) error {
		if offset != 0 || started.Swap(true) {
			return nil
		}
		entered <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	provider := newService(t, hosts[1], []Subprotocol{p}, testOptions(t, 1)...)
	_ = provider
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	joined := make(chan struct{}, 1)
	requester.flights.joined = func(peer.ID) { joined <- struct{}{} }

	ctxA, cancelA := context.WithCancel(t.Context())
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { errA <- requester.SyncPeer(ctxA, hosts[1].ID()) }()
	<-entered // A's sync is running, held by the provider
	go func() { errB <- requester.SyncPeer(t.Context(), hosts[1].ID()) }()
	<-joined // B waits for A's sync
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled SyncPeer: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-errB; err != nil {
		t.Fatalf("the SyncPeer that joined: %v, want its own sync to succeed", err)
	}
}
