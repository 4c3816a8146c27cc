package ordersync_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// newNode starts a libp2p host on loopback with an ordersync Service that
// serves the orders of store and adds what it receives to it.
func newNode(ctx context.Context, store orderstore.Store) (host.Host, *ordersync.Service) {
	h := newHost()
	node := ordersync.NewHostNode(h)
	// The filter a node of chain 1337 uses when told nothing else: every
	// well-formed order for the chain's 0x Exchange. A provider serves, and
	// a requester keeps, only orders that match it.
	filter, err := orderfilter.NewDefaultForChain(chainID)
	if err != nil {
		log.Fatal(err)
	}
	// The requester's preference: the order-hash cursor first, then page
	// numbers. The node's scores move when a provider sends bad orders.
	scoring := pagination.WithPeerScorer(node)
	subprotocols := []ordersync.Subprotocol{
		filteredpagination.New(store, filter, scoring),
		ordinal.New(store, filter, scoring),
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
	if _, err := providerStore.AddOrders(ctx, signedOrders(1000)); err != nil {
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

// A node can read what its Service did from Stats: here, what a requester
// got from its one provider.
func ExampleService_Stats() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, signedOrders(300)); err != nil {
		log.Fatal(err)
	}
	provider, _ := newNode(ctx, providerStore)
	defer provider.Close()
	h, service := newNode(ctx, orderstore.NewMemory())
	defer h.Close()
	if err := h.Connect(ctx, peer.AddrInfo{ID: provider.ID(), Addrs: provider.Addrs()}); err != nil {
		log.Fatal(err)
	}
	if err := service.GetOrders(ctx, 1); err != nil {
		log.Fatal(err)
	}

	st := service.Stats()
	fmt.Println("syncs completed:", st.SyncsCompleted, "failed:", st.SyncsFailed)
	fmt.Println("orders accepted:", st.OrdersAccepted, "new:", st.OrdersNew)
	p := st.Providers[provider.ID()]
	fmt.Println("provider's subprotocol:", p.Subprotocol, "last error:", p.Err)
	// Output:
	// syncs completed: 1 failed: 0
	// orders accepted: 300 new: 300
	// provider's subprotocol: /pagination-with-filter/version/1 last error: <nil>
}

// newHost starts a libp2p host that listens on loopback only.
func newHost() host.Host {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// chainID is the examples' chain: 0x's Ganache test snapshot.
const chainID = 1337

// signedOrders are n orders of one maker for the 0x Exchange of chainID,
// signed with its key; a real node gets them from its makers or its
// peers. An order signed for any other contract matches no default filter
// of the chain: providers would leave it out.
func signedOrders(n int) []*zeroex.SignedOrder {
	key, err := crypto.HexToECDSA("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")
	if err != nil {
		log.Fatal(err)
	}
	exchange, err := zeroex.ExchangeAddress(chainID)
	if err != nil {
		log.Fatal(err)
	}
	token := func(addr string) []byte { // ERC-20 asset data
		return append(common.FromHex("0xf47261b0"), common.LeftPadBytes(common.FromHex(addr), 32)...)
	}
	orders := make([]*zeroex.SignedOrder, n)
	for i := range orders {
		order := &zeroex.Order{
			ChainID:               big.NewInt(chainID),
			ExchangeAddress:       exchange,
			MakerAddress:          crypto.PubkeyToAddress(key.PublicKey),
			MakerAssetData:        token("0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c"),
			MakerFeeAssetData:     []byte{},
			MakerAssetAmount:      big.NewInt(1000),
			MakerFee:              big.NewInt(0),
			TakerAssetData:        token("0x0b1ba0af832d7c05fd64161e0db78e85978e8082"),
			TakerFeeAssetData:     []byte{},
			TakerAssetAmount:      big.NewInt(2000),
			TakerFee:              big.NewInt(0),
			ExpirationTimeSeconds: big.NewInt(4102444800),
			Salt:                  big.NewInt(int64(i)),
		}
		if orders[i], err = zeroex.SignOrder(key, order); err != nil {
			log.Fatal(err)
		}
	}
	return orders
}

// A node that stays current with whichever peers are there: a round every
// ten minutes or so with the peers connected then, however few, and a
// peer that connects meanwhile synced at once.
func ExampleService_PeriodicallySyncNeighbors() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, signedOrders(100)); err != nil {
		log.Fatal(err)
	}
	provider, _ := newNode(ctx, providerStore)
	defer provider.Close()
	store := orderstore.NewMemory()
	h, service := newNode(ctx, store)
	defer h.Close()

	// The node's own code calls SyncPeer when a peer connects.
	if err := h.Connect(ctx, peer.AddrInfo{ID: provider.ID(), Addrs: provider.Addrs()}); err != nil {
		log.Fatal(err)
	}
	if err := service.SyncPeer(ctx, provider.ID()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("orders after SyncPeer:", store.Len())

	// For as long as the node runs (a goroutine of its own, in a node);
	// it returns when ctx ends.
	periodicCtx, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	err := service.PeriodicallySyncNeighbors(periodicCtx, 10*time.Minute)
	fmt.Println("stopped with ctx:", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// orders after SyncPeer: 100
	// stopped with ctx: true
}
