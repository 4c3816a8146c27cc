package testnet

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// waitConnected returns once h has a connection to p.
func waitConnected(t testing.TB, ctx context.Context, h host.Host, p peer.ID) {
	t.Helper()
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		t.Fatalf("testnet: subscribe to connectedness events: %v", err)
	}
	defer sub.Close()
	// Subscribe first, then check, so that an event between the two is
	// not missed.
	if h.Network().Connectedness(p) == network.Connected {
		return
	}
	for {
		select {
		case e := <-sub.Out():
			ev := e.(event.EvtPeerConnectednessChanged)
			if ev.Peer == p && ev.Connectedness == network.Connected {
				return
			}
		case <-ctx.Done():
			t.Fatalf("testnet: %s never saw a connection from %s: %v", h.ID(), p, ctx.Err())
		}
	}
}
