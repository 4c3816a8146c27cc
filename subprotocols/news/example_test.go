package news_test

import (
	"context"
	"fmt"
	"log"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/news"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/zeroex"
)

// startNode runs a Service and a News over one store on a new host.
func startNode(ctx context.Context) (host.Host, *orderstore.Memory) {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		log.Fatal(err)
	}
	store := orderstore.NewMemory()
	node := ordersync.NewHostNode(h)
	service := ordersync.New(ctx, node, []ordersync.Subprotocol{reconcile.New(store, nil, reconcile.WithPeerScorer(node))})
	if _, err := news.New(ctx, service, node, store, nil); err != nil {
		log.Fatal(err)
	}
	return h, store
}

// An order a node's store takes in, from its API say, reaches its
// neighbour by news, with no sync: the neighbour's change feed reports it.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, aStore := startNode(ctx)
	defer a.Close()
	b, bStore := startNode(ctx)
	defer b.Close()
	if err := b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
		log.Fatal(err)
	}
	arrived := bStore.Subscribe(0)
	defer arrived.Close()

	if _, err := aStore.AddOrders(ctx, []*zeroex.SignedOrder{signedOrder()}); err != nil {
		log.Fatal(err)
	}
	change := <-arrived.Changes()
	fmt.Println(change.Kind, bStore.Len())
	// Output: added 1
}

// signedOrder is an order for chain 1337's 0x Exchange, signed by its
// maker; a real node gets orders from its makers or its peers.
func signedOrder() *zeroex.SignedOrder {
	key, err := crypto.HexToECDSA("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")
	if err != nil {
		log.Fatal(err)
	}
	exchange, err := zeroex.ExchangeAddress(1337)
	if err != nil {
		log.Fatal(err)
	}
	erc20 := common.FromHex("0xf47261b0000000000000000000000000871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c")
	order, err := zeroex.SignOrder(key, &zeroex.Order{
		ChainID: big.NewInt(1337), ExchangeAddress: exchange,
		MakerAddress:   crypto.PubkeyToAddress(key.PublicKey),
		MakerAssetData: erc20, TakerAssetData: erc20,
		MakerFeeAssetData: []byte{}, TakerFeeAssetData: []byte{},
		MakerAssetAmount: big.NewInt(1000), TakerAssetAmount: big.NewInt(2000),
		MakerFee: big.NewInt(0), TakerFee: big.NewInt(0),
		ExpirationTimeSeconds: big.NewInt(4102444800), Salt: big.NewInt(1),
	})
	if err != nil {
		log.Fatal(err)
	}
	return order
}
