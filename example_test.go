package ordersync_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// newNode starts a libp2p host on loopback with an ordersync Service that
// serves the orders of store and adds what it receives to it.
func newNode(ctx context.Context, store orderstore.Store) (host.Host, *ordersync.Service) {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		log.Fatal(err)
	}
	node := ordersync.NewHostNode(h)
	// The requester's preference: the order-hash cursor first, then page
	// numbers. A nil filter keeps every order whose signature checks out;
	// the node's scores move when a provider sends bad orders.
	scoring := pagination.WithPeerScorer(node)
	subprotocols := []ordersync.Subprotocol{
		filteredpagination.New(store, nil, scoring),
		ordinal.New(store, nil, scoring),
	}
	return h, ordersync.New(ctx, node, subprotocols)
}

// A node makes one Service on its host, gets orders from its peers once at
// start-up, then keeps getting them in the background.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A peer that already holds 1 000 signed orders.
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, ordergen.Generate(ordergen.Options{Seed: 7, Count: 1000})); err != nil {
		log.Fatal(err)
	}
	provider, _ := newNode(ctx, providerStore)
	defer provider.Close()

	// Our node, connected to it.
	store := orderstore.NewMemory()
	h, service := newNode(ctx, store)
	defer h.Close()
	if err := h.Connect(ctx, peer.AddrInfo{ID: provider.ID(), Addrs: provider.Addrs()}); err != nil {
		log.Fatal(err)
	}

	// At start-up: wait until one peer has given us its orders.
	if err := service.GetOrders(ctx, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println("orders after GetOrders:", store.Len())

	// For as long as the node runs: again every ten minutes or so. It
	// returns when ctx ends.
	periodicCtx, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	err := service.PeriodicallyGetOrders(periodicCtx, 1, 10*time.Minute)
	fmt.Println("stopped with ctx:", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// orders after GetOrders: 1000
	// stopped with ctx: true
}
