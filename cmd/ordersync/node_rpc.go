package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/cmd/ordersync/internal/meshrpc"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
)

// rpcFlags are node's flags of 0x Mesh's JSON-RPC API (package meshrpc)
// and of the store it feeds.
type rpcFlags struct {
	addr    string
	chainID int
	// maxOrders bounds the store (orderstore.WithCapacity,
	// sqlstore.WithCapacity); 0: none.
	maxOrders int
	// expiryMargin is how long before its expiration an order counts as
	// expired (orderstore.WithExpiry, sqlstore.WithExpiry).
	expiryMargin time.Duration
}

// addRPCFlags defines --rpc, --rpc-chain-id, --max-orders and
// --expiry-margin on fs.
func addRPCFlags(fs *flag.FlagSet) *rpcFlags {
	r := &rpcFlags{}
	fs.StringVar(&r.addr, "rpc", "", "serve 0x Mesh v9's JSON-RPC API over HTTP and WebSocket on `ADDR` (host:port, or :port for 127.0.0.1); default off. "+
		"A private API for the node's operator, with no authentication: keep it on loopback or behind a firewall")
	fs.IntVar(&r.chainID, "rpc-chain-id", ordergen.DefaultChainID, "chain `ID` the API takes orders of (others get OrderForIncorrectChain) and reports; syncs are not filtered by it")
	fs.IntVar(&r.maxOrders, "max-orders", 0, "most orders the store keeps (in memory or --db): when full it evicts those that expire last, never pinned ones (0: no bound)")
	fs.DurationVar(&r.expiryMargin, "expiry-margin", 0, "orders within this `delay` of their expiration count as expired: refused, dropped, reported EXPIRED")
	return r
}

// check refuses what cannot work.
func (r *rpcFlags) check() error {
	if r.addr != "" {
		host, _, err := net.SplitHostPort(r.addr)
		if err != nil {
			return cli.Usagef("--rpc %q: want host:port: %v", r.addr, err)
		}
		if host == "" {
			r.addr = "127.0.0.1" + r.addr
		}
	}
	if _, err := orderfilter.NewDefaultForChain(r.chainID); err != nil {
		return cli.Usagef("--rpc-chain-id %d: %v", r.chainID, err)
	}
	switch {
	case r.maxOrders < 0:
		return cli.Usagef("--max-orders %d: want 0 or more", r.maxOrders)
	case r.expiryMargin < 0:
		return cli.Usagef("--expiry-margin %v: must not be negative", r.expiryMargin)
	}
	return nil
}

// memoryOptions are the memory store's options: it drops expired orders
// (reported on its change feed, hence the API's EXPIRED events) and keeps
// at most --max-orders.
func (r *rpcFlags) memoryOptions() []orderstore.MemoryOption {
	return []orderstore.MemoryOption{orderstore.WithExpiry(r.expiryMargin), orderstore.WithCapacity(r.maxOrders)}
}

// dbOptions are the same for a --db store.
func (r *rpcFlags) dbOptions() []sqlstore.Option {
	return []sqlstore.Option{sqlstore.WithExpiry(r.expiryMargin), sqlstore.WithCapacity(r.maxOrders)}
}

// startRPC starts the API when --rpc asks for it and says where on stderr
// ("node: rpc on http://127.0.0.1:PORT and ws://127.0.0.1:PORT"). The
// returned function stops it.
func startRPC(r *rpcFlags, store orderstore.Store, held func() int, h host.Host, log *logrus.Logger, stderr io.Writer) (stop func(), err error) {
	if r.addr == "" {
		return func() {}, nil
	}
	filter, err := orderfilter.NewDefaultForChain(r.chainID)
	if err != nil {
		return nil, err
	}
	srv, err := meshrpc.New(meshrpc.Config{
		Store:   store,
		Held:    held,
		Host:    h,
		Filter:  filter,
		Version: nodeVersion(),
		Log:     log,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(r.addr); err != nil {
		return nil, fmt.Errorf("--rpc: %w", err)
	}
	fmt.Fprintf(stderr, "node: rpc on http://%s and ws://%s\n", srv.Addr(), srv.Addr())
	return func() { _ = srv.Close() }, nil
}

// nodeVersion is mesh_getStats's version: "ordersync" and the module's
// version when the binary knows it.
func nodeVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return "ordersync " + bi.Main.Version
	}
	return "ordersync"
}
