package ordersync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/zeroex"
)

// allAtOnce is a custom Subprotocol: a provider sends every order it holds
// in one complete response; a requester keeps those whose signature is the
// maker's. Its request metadata is always null and it has no response
// metadata. (A real subprotocol pages, and bounds what it takes.)
type allAtOnce struct {
	store orderstore.Store
}

func (allAtOnce) Name() string { return "/example/all-at-once/version/0" }

func (a allAtOnce) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	orders, err := a.store.OrdersAfter(ctx, common.Hash{}, 1000)
	if err != nil {
		return nil, err
	}
	return &ordersync.Response{Orders: orders, Complete: true}, nil
}

func (a allAtOnce) HandleOrderSyncResponse(ctx context.Context, resp *ordersync.Response) (*ordersync.Request, int, error) {
	var valid []*zeroex.SignedOrder
	for _, o := range resp.Orders {
		if o != nil && o.VerifySignature() == nil {
			valid = append(valid, o)
		}
	}
	if _, err := a.store.AddOrders(ctx, valid); err != nil {
		return nil, 0, err
	}
	return nil, len(valid), nil // nil: nothing more to ask
}

// requireNull accepts only the metadata this subprotocol sends: null.
func requireNull(m json.RawMessage) (interface{}, error) {
	if !bytes.Equal(m, []byte("null")) {
		return nil, fmt.Errorf("all-at-once: metadata %.40s, want null", m)
	}
	return nil, nil
}

func (allAtOnce) ParseRequestMetadata(m json.RawMessage) (interface{}, error)  { return requireNull(m) }
func (allAtOnce) ParseResponseMetadata(m json.RawMessage) (interface{}, error) { return requireNull(m) }
func (allAtOnce) GenerateFirstRequestMetadata() (json.RawMessage, error)       { return nil, nil }

// Peers agree on a subprotocol of their own by offering it: here, both
// speak only allAtOnce.
func Example_customSubprotocol() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	providerStore := orderstore.NewMemory()
	if _, err := providerStore.AddOrders(ctx, signedOrders(10)); err != nil {
		log.Fatal(err)
	}
	provider := newHost()
	defer provider.Close()
	ordersync.New(ctx, ordersync.NewHostNode(provider), []ordersync.Subprotocol{allAtOnce{providerStore}})

	store := orderstore.NewMemory()
	h := newHost()
	defer h.Close()
	service := ordersync.New(ctx, ordersync.NewHostNode(h), []ordersync.Subprotocol{allAtOnce{store}})
	if err := h.Connect(ctx, peer.AddrInfo{ID: provider.ID(), Addrs: provider.Addrs()}); err != nil {
		log.Fatal(err)
	}
	if err := service.GetOrders(ctx, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Println("orders:", store.Len())
	fmt.Println("subprotocol:", service.Stats().Providers[provider.ID()].Subprotocol)
	// Output:
	// orders: 10
	// subprotocol: /example/all-at-once/version/0
}

// sortedStore is a custom orderstore.Store: the orders in a slice sorted
// by hash, under a mutex. A node would keep them in its database.
type sortedStore struct {
	mu     sync.Mutex
	hashes []common.Hash
	orders map[common.Hash]*zeroex.SignedOrder
}

func (s *sortedStore) OrdersAfter(_ context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.hashes, after, func(a, b common.Hash) int { return a.Cmp(b) })
	if found {
		i++ // strictly after
	}
	var out []*zeroex.SignedOrder
	for ; i < len(s.hashes) && len(out) < limit; i++ {
		out = append(out, s.orders[s.hashes[i]])
	}
	return out, nil
}

func (s *sortedStore) AddOrders(_ context.Context, orders []*zeroex.SignedOrder) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders = make(map[common.Hash]*zeroex.SignedOrder)
	}
	added := 0
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			return added, err
		}
		if _, ok := s.orders[h]; ok {
			continue
		}
		s.orders[h] = o
		i, _ := slices.BinarySearchFunc(s.hashes, h, func(a, b common.Hash) int { return a.Cmp(b) })
		s.hashes = slices.Insert(s.hashes, i, h)
		added++
	}
	return added, nil
}

// A node plugs its own store into the network's subprotocols: the provider
// pages through it, the requester adds to it.
func Example_customStore() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	providerStore := new(sortedStore)
	if _, err := providerStore.AddOrders(ctx, signedOrders(700)); err != nil {
		log.Fatal(err)
	}
	provider := newHost()
	defer provider.Close()
	ordersync.New(ctx, ordersync.NewHostNode(provider), []ordersync.Subprotocol{filteredpagination.New(providerStore, nil)})

	store := new(sortedStore)
	h := newHost()
	defer h.Close()
	service := ordersync.New(ctx, ordersync.NewHostNode(h), []ordersync.Subprotocol{filteredpagination.New(store, nil)})
	if err := h.Connect(ctx, peer.AddrInfo{ID: provider.ID(), Addrs: provider.Addrs()}); err != nil {
		log.Fatal(err)
	}
	if err := service.GetOrders(ctx, 1); err != nil {
		log.Fatal(err)
	}
	page, _ := store.OrdersAfter(ctx, common.Hash{}, 1000)
	fmt.Println("orders:", len(page), "pages:", service.Stats().Providers[provider.ID()].Pages)
	// Output:
	// orders: 700 pages: 3
}
