package main

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/host"

	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// syncNode is one ordersync node of the demo or the bench: a loopback host,
// its order store and the ordersync service on top.
type syncNode struct {
	name    string
	host    host.Host
	store   *orderstore.Memory
	subs    []string
	service *ordersync.Service
	// cancel ends the service (it serves until its context ends).
	cancel context.CancelFunc
}

// syncNodeConfig is how to build a syncNode.
type syncNodeConfig struct {
	name         string
	subprotocols []string
	perPage      int
	filter       *orderfilter.Filter
	// orders go into the store before the service starts.
	orders []*zeroex.SignedOrder
	// noRateLimit lifts the provider's request rate limits (shared and
	// per peer).
	noRateLimit bool
	// serviceOpts are more options for ordersync.New.
	serviceOpts []ordersync.Option
	// wrap, when set, wraps each subprotocol (the bench times them).
	wrap func(ordersync.Subprotocol) ordersync.Subprotocol
}

// startSyncNode starts a host on 127.0.0.1 and an ordersync service on it.
// Close it when done.
func startSyncNode(ctx context.Context, cfg syncNodeConfig) (*syncNode, error) {
	h, err := p2phost.New(p2phost.Loopback())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.name, err)
	}
	n := &syncNode{
		name:  cfg.name,
		host:  h,
		store: orderstore.NewMemory(),
		subs:  cfg.subprotocols,
	}
	if len(cfg.orders) > 0 {
		if _, err := n.store.AddOrders(ctx, cfg.orders); err != nil {
			n.Close()
			return nil, fmt.Errorf("%s: storing its orders: %w", cfg.name, err)
		}
	}
	node := ordersync.NewHostNode(h)
	var subs []ordersync.Subprotocol
	for _, name := range cfg.subprotocols {
		sub, err := newSubprotocol(name, n.store, cfg.filter, node,
			pagination.WithPerPage(cfg.perPage),
		)
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("%s: %w", cfg.name, err)
		}
		if cfg.wrap != nil {
			sub = cfg.wrap(sub)
		}
		subs = append(subs, sub)
	}
	var opts []ordersync.Option
	if cfg.noRateLimit {
		opts = append(opts, ordersync.WithRateLimit(rate.Inf, 1), ordersync.WithPeerRateLimit(rate.Inf, 1))
	}
	opts = append(opts, cfg.serviceOpts...)
	svcCtx, cancel := context.WithCancel(ctx)
	n.cancel = cancel
	n.service = ordersync.New(svcCtx, node, subs, opts...)
	return n, nil
}

// bytesIn is how many ordersync stream bytes the node has read.
func (n *syncNode) bytesIn() int64 { return n.service.Stats().BytesRead }

// counts are the service's counters, the requester pipeline's among them.
func (n *syncNode) counts() ordersync.Stats { return n.service.Stats() }

// agreed lists the subprotocols its providers chose, in its preference
// order.
func (n *syncNode) agreed() []string {
	chosen := map[string]bool{}
	for _, ps := range n.service.Stats().Providers {
		if ps.Subprotocol != "" {
			chosen[ps.Subprotocol] = true
		}
	}
	var names []string
	for _, name := range n.subs {
		if chosen[name] {
			names = append(names, name)
		}
	}
	return names
}

// Close stops the service and the host.
func (n *syncNode) Close() {
	if n.cancel != nil {
		n.cancel()
	}
	_ = n.host.Close()
}
