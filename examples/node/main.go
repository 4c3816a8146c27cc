// Command node is an example of a node that embeds ordersync as a node's
// developer would, from outside the library: its own go-libp2p host (Noise,
// a connection manager, a resource manager), its own validation (expiry,
// and a stand-in for an on-chain check that takes a few milliseconds a
// batch), its own Prometheus registry, the store's change feed as its
// new-order notification, a revalidation pass, and Close.
//
// It starts a second host in the same process as its peer, holding orders
// of which some are "filled on the chain" and some expire within the
// node's margin, syncs, prints what happened, and exits non-zero when it is
// not what it should be (CI runs it: go run ./examples/node).
package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log"
	"math/big"
	"os"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/zeroex"
)

// chainID is the example's chain: 0x's Ganache snapshot, whose Exchange
// the default filter of the chain expects.
const chainID = 1337

// margin is how long before its expiration an order counts as expired:
// time for it to reach peers and a taker.
const margin = 5 * time.Minute

func main() {
	if err := run(); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The peer: a host holding 300 orders, 20 of them expiring within our
	// margin.
	long, soon := signedOrders(280, time.Hour), signedOrders(20, time.Minute)
	peerStore := orderstore.NewMemory()
	if _, err := peerStore.AddOrders(ctx, append(append([]*zeroex.SignedOrder{}, long...), soon...)); err != nil {
		return err
	}
	peerHost, err := newHost()
	if err != nil {
		return err
	}
	defer peerHost.Close()
	peerService, err := newService(ctx, peerHost, peerStore)
	if err != nil {
		return err
	}
	defer peerService.Close()

	// Our node. 30 of the peer's lasting orders are filled on the chain.
	chain := &chain{filled: map[common.Hash]bool{}}
	chain.fill(long[:30])
	h, err := newHost()
	if err != nil {
		return err
	}
	defer h.Close()
	expiry := orderstore.Expiry{Margin: margin}
	store := orderstore.NewMemory(orderstore.WithExpiry(margin))
	defer store.Close() // ends its pruner and the feed
	feed := store.Subscribe(orderstore.DefaultFeedBuffer)
	added, removed := watch(feed)
	reg := prometheus.NewRegistry()
	service, err := newService(ctx, h, store,
		ordersync.WithExpiry(expiry),
		ordersync.WithValidator(chain.validate, 2*time.Second),
		ordersync.WithMetricsTracer(ordersync.NewMetricsTracer(ordersync.WithRegisterer(reg))))
	if err != nil {
		return err
	}
	if err := h.Connect(ctx, peer.AddrInfo{ID: peerHost.ID(), Addrs: peerHost.Addrs()}); err != nil {
		return err
	}
	if err := service.SyncPeer(ctx, peerHost.ID()); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	st := service.Stats()
	fmt.Printf("stored %d; rejected: %d filled, %d expired\n", store.Len(),
		st.OrdersRejected[ordersync.RejectFilled], st.OrdersRejected[ordersync.RejectExpired])
	fmt.Printf("ordersync_orders_rejected_total{reason=\"filled\"} %v\n", series(reg, "ordersync_orders_rejected_total", "filled"))

	// Later the chain moves on: 50 more are filled, and a revalidation
	// pass takes them out of the store.
	chain.fill(long[30:80])
	n, err := service.Revalidate(ctx, store, 100)
	if err != nil {
		return err
	}
	fmt.Printf("revalidation removed %d; stored %d\n", n, store.Len())

	// Close the Service first (it waits for what runs on it), then the
	// store, which ends the feed.
	if err := service.Close(); err != nil {
		return err
	}
	_ = store.Close()
	a, r := <-added, <-removed
	fmt.Printf("change feed: %d added, %d removed, %d missed\n", a, r, feed.Missed())
	if store.Len() != 200 || a != 250 || r != 50 || n != 50 {
		return errors.New("node: not what the example should end with (200 stored, 250 added, 50 removed)")
	}
	return nil
}

// newHost starts a go-libp2p host on loopback as a node would configure
// it: Noise, a connection manager (which keeps ordersync's peer scores as
// tags) and a resource manager with go-libp2p's default limits.
func newHost() (host.Host, error) {
	cm, err := connmgr.NewConnManager(100, 400, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale()))
	if err != nil {
		return nil, err
	}
	return libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Security(noise.ID, noise.New),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm))
}

// newService runs ordersync on h over store, speaking reconcile first and
// the network's order-hash pagination second, keeping only orders for the
// chain's Exchange.
func newService(ctx context.Context, h host.Host, store *orderstore.Memory, opts ...ordersync.Option) (*ordersync.Service, error) {
	filter, err := orderfilter.NewDefaultForChain(chainID)
	if err != nil {
		return nil, err
	}
	node := ordersync.NewHostNode(h)
	subs := []ordersync.Subprotocol{
		reconcile.New(store, filter, reconcile.WithPeerScorer(node)),
		filteredpagination.New(store, filter, pagination.WithPeerScorer(node)),
	}
	return ordersync.New(ctx, node, subs, opts...), nil
}

// chain stands in for a node's view of the chain: which orders are filled.
type chain struct {
	mu     sync.Mutex
	filled map[common.Hash]bool
}

func (c *chain) fill(orders []*zeroex.SignedOrder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err == nil {
			c.filled[h] = true
		}
	}
}

// validate is the node's Validator: one "call to the chain" per batch,
// which takes a few milliseconds, then a verdict per order.
func (c *chain) validate(ctx context.Context, _ peer.ID, orders []*zeroex.SignedOrder) ([]ordersync.Verdict, error) {
	select {
	case <-time.After(3 * time.Millisecond): // the chain's round trip
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	verdicts := make([]ordersync.Verdict, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err == nil && c.filled[h] {
			verdicts[i] = ordersync.Verdict{Result: ordersync.ValidationReject, Reason: ordersync.RejectFilled}
		}
	}
	return verdicts, nil
}

// watch counts the store's changes until its feed closes: the node's
// notification of orders added (once per order stored, whoever stored it)
// and removed. Each channel yields its count then.
func watch(feed *orderstore.Subscription) (added, removed <-chan int) {
	a, r := make(chan int, 1), make(chan int, 1)
	go func() {
		var na, nr int
		for c := range feed.Changes() {
			if c.Kind == orderstore.ChangeAdded {
				na++
			} else {
				nr++
			}
		}
		a <- na
		r <- nr
	}()
	return a, r
}

// series reads one labelled counter from reg.
func series(reg *prometheus.Registry, name, reason string) float64 {
	families, err := reg.Gather()
	if err != nil {
		return -1
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// makerKey signs the example's orders; a real node gets orders from its
// makers and its peers.
var makerKey = func() *ecdsa.PrivateKey {
	key, err := crypto.HexToECDSA("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")
	if err != nil {
		panic(err)
	}
	return key
}()

// salt keeps the example's orders distinct.
var salt int64

// signedOrders are n orders for the chain's Exchange that expire after
// life.
func signedOrders(n int, life time.Duration) []*zeroex.SignedOrder {
	exchange, err := zeroex.ExchangeAddress(chainID)
	if err != nil {
		panic(err)
	}
	token := func(addr string) []byte { // ERC-20 asset data
		return append(common.FromHex("0xf47261b0"), common.LeftPadBytes(common.FromHex(addr), 32)...)
	}
	orders := make([]*zeroex.SignedOrder, n)
	for i := range orders {
		salt++
		order := &zeroex.Order{
			ChainID:               big.NewInt(chainID),
			ExchangeAddress:       exchange,
			MakerAddress:          crypto.PubkeyToAddress(makerKey.PublicKey),
			MakerAssetData:        token("0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c"),
			MakerFeeAssetData:     []byte{},
			MakerAssetAmount:      big.NewInt(1000),
			MakerFee:              big.NewInt(0),
			TakerAssetData:        token("0x0b1ba0af832d7c05fd64161e0db78e85978e8082"),
			TakerFeeAssetData:     []byte{},
			TakerAssetAmount:      big.NewInt(2000),
			TakerFee:              big.NewInt(0),
			ExpirationTimeSeconds: big.NewInt(time.Now().Add(life).Unix()),
			Salt:                  big.NewInt(salt),
		}
		if orders[i], err = zeroex.SignOrder(makerKey, order); err != nil {
			panic(err)
		}
	}
	return orders
}
