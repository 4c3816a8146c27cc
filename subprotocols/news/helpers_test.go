package news

import (
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/zeroex"
)

// newsNode is a test node: an ordersync Service with reconcile and a News
// over one Memory store.
type newsNode struct {
	*nodetest.Node
	News *News
}

// startNews starts a node on h holding orders, with News options opts.
func startNews(t *testing.T, h host.Host, orders []*zeroex.SignedOrder, serviceOpts []ordersync.Option, opts ...Option) *newsNode {
	t.Helper()
	n := nodetest.StartNodeWith(t, h, orders, nil, []string{reconcile.Name}, serviceOpts)
	ctx, cancel := context.WithCancel(context.Background())
	nw, err := New(ctx, n.Service, ordersync.NewHostNode(h), n.Store, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = nw.Close()
	})
	return &newsNode{Node: n, News: nw}
}

// waitHolds waits until store holds every order of hashes, reading its
// change feed (sub, subscribed before the orders could arrive), for at
// most a generous bound that fails the test rather than hang it.
func waitHolds(t *testing.T, store *orderstore.Memory, sub *orderstore.Subscription, hashes ...common.Hash) {
	t.Helper()
	missing := map[common.Hash]bool{}
	for _, h := range hashes {
		if !store.Has(h) {
			missing[h] = true
		}
	}
	deadline := time.After(30 * time.Second)
	for len(missing) > 0 {
		select {
		case c := <-sub.Changes():
			if c.Kind == orderstore.ChangeAdded {
				delete(missing, c.Hash)
			}
		case <-deadline:
			t.Fatalf("%d of %d orders never arrived", len(missing), len(hashes))
		}
	}
}

// hashesOf returns the orders' hashes.
func hashesOf(t *testing.T, orders []*zeroex.SignedOrder) []common.Hash {
	t.Helper()
	out := make([]common.Hash, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = h
	}
	return out
}

// waitSpeaksNews waits until h knows that each of peers speaks news (its
// identify, or the peer's identify push after its News started, told
// it), so that a test's first orders are not announced instead of pushed
// for want of known neighbours. It reads h's event bus, with a generous
// bound that fails the test rather than hang it.
func waitSpeaksNews(t *testing.T, h host.Host, peers ...peer.ID) {
	t.Helper()
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerProtocolsUpdated))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	deadline := time.After(time.Minute)
	for {
		missing := 0
		for _, p := range peers {
			if ok, _ := h.Peerstore().SupportsProtocols(p, ID); len(ok) == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		select {
		case <-sub.Out():
		case <-deadline:
			t.Fatalf("%s: %d of %d neighbours not known to speak news after a minute", h.ID(), missing, len(peers))
		}
	}
}
