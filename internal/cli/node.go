package cli

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

// Makers is how many maker keys sign the orders the demo and the lab's
// bench generate.
const Makers = 4

// SyncNode is one ordersync node of the demo or the bench: a loopback host,
// its order store and the ordersync service on top.
type SyncNode struct {
	Name    string
	Host    host.Host
	Store   *orderstore.Memory
	Subs    []string
	Service *ordersync.Service
	// cancel ends the service (it serves until its context ends).
	cancel context.CancelFunc
}

// SyncNodeConfig is how to build a syncNode.
type SyncNodeConfig struct {
	Name         string
	Subprotocols []string
	PerPage      int
	Filter       *orderfilter.Filter
	// Orders go into the store before the service starts.
	Orders []*zeroex.SignedOrder
	// NoRateLimit lifts the provider's request rate limits (shared and
	// per peer).
	NoRateLimit bool
	// ServiceOpts are more options for ordersync.New.
	ServiceOpts []ordersync.Option
}

// StartSyncNode starts a host on 127.0.0.1 and an ordersync service on it.
// Close it when done.
func StartSyncNode(ctx context.Context, cfg SyncNodeConfig) (*SyncNode, error) {
	h, err := p2phost.New(p2phost.Loopback())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	n := &SyncNode{
		Name:  cfg.Name,
		Host:  h,
		Store: orderstore.NewMemory(),
		Subs:  cfg.Subprotocols,
	}
	if len(cfg.Orders) > 0 {
		if _, err := n.Store.AddOrders(ctx, cfg.Orders); err != nil {
			n.Close()
			return nil, fmt.Errorf("%s: storing its orders: %w", cfg.Name, err)
		}
	}
	node := ordersync.NewHostNode(h)
	var subs []ordersync.Subprotocol
	for _, name := range cfg.Subprotocols {
		sub, err := NewSubprotocol(name, n.Store, cfg.Filter, node,
			pagination.WithPerPage(cfg.PerPage),
		)
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("%s: %w", cfg.Name, err)
		}
		subs = append(subs, sub)
	}
	var opts []ordersync.Option
	if cfg.NoRateLimit {
		opts = append(opts, ordersync.WithRateLimit(rate.Inf, 1), ordersync.WithPeerRateLimit(rate.Inf, 1))
	}
	opts = append(opts, cfg.ServiceOpts...)
	svcCtx, cancel := context.WithCancel(ctx)
	n.cancel = cancel
	n.Service = ordersync.New(svcCtx, node, subs, opts...)
	return n, nil
}

// BytesIn is how many ordersync stream bytes the node has read.
func (n *SyncNode) BytesIn() int64 { return n.Service.Stats().BytesRead }

// Counts are the service's counters, the requester pipeline's among them.
func (n *SyncNode) Counts() ordersync.Stats { return n.Service.Stats() }

// Agreed lists the subprotocols its providers chose, in its preference
// order.
func (n *SyncNode) Agreed() []string {
	chosen := map[string]bool{}
	for _, ps := range n.Service.Stats().Providers {
		if ps.Subprotocol != "" {
			chosen[ps.Subprotocol] = true
		}
	}
	var names []string
	for _, name := range n.Subs {
		if chosen[name] {
			names = append(names, name)
		}
	}
	return names
}

// Close stops the service and the host.
func (n *SyncNode) Close() {
	if n.cancel != nil {
		n.cancel()
	}
	_ = n.Host.Close()
}
