package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// gossipTopic is the topic the GossipSub baseline floods orders on.
const gossipTopic = "/ordersync-lab/orders/1"

// runNetsimGossipNode is "netsim gossip-node", the node of netsim's
// GossipSub flood baseline (--baseline gossipsub): a libp2p host as
// ordersync node's, a memory store that drops expired orders, and, in
// place of ordersync, GossipSub (what 0x Mesh propagated orders with):
// every order added through its API is published, every order received
// is verified (hash and signature, expiry) before it is forwarded and
// stored. It serves the part of 0x Mesh's JSON-RPC API netsim's workload
// uses (mesh_addOrders, mesh_getOrders, mesh_subscribe "orders") and
// prints ordersync node's status lines.
func runNetsimGossipNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewTextFlagSet("netsim gossip-node", "Usage: ordersync-lab netsim gossip-node --listen MULTIADDR --rpc ADDR [flags]\n\nnetsim's GossipSub baseline node (internal).\n\nFlags:\n", stderr)
	listen := fs.String("listen", "", "multiaddr to listen on")
	announce := fs.String("announce", "", "multiaddr to announce instead")
	identity := fs.String("identity", "", "identity key file")
	rpcAddr := fs.String("rpc", "", "host:port of the JSON-RPC API (WebSocket)")
	margin := fs.Duration("expiry-margin", 0, "orders within this delay of their expiration count as expired")
	statusEvery := fs.Duration("status-every", time.Second, "print a status line this often")
	fs.String("log-level", "warn", "ignored: the baseline logs nothing")
	var peers cli.PeerAddrs
	fs.Var(&peers, "peer", "peer to dial (repeatable)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if *listen == "" || *rpcAddr == "" {
		return cli.Usagef("want --listen and --rpc")
	}
	h, err := newGossipHost(*listen, *announce, *identity)
	if err != nil {
		return err
	}
	defer h.Close()
	store := orderstore.NewMemory(orderstore.WithExpiry(*margin))
	defer store.Close()

	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		return err
	}
	g := &gossipNode{h: h, store: store}
	if err := ps.RegisterTopicValidator(gossipTopic, g.validate); err != nil {
		return err
	}
	if g.topic, err = ps.Join(gossipTopic); err != nil {
		return err
	}
	sub, err := g.topic.Subscribe()
	if err != nil {
		return err
	}
	defer sub.Cancel()
	go g.receive(ctx, sub)

	ln, err := net.Listen("tcp", *rpcAddr)
	if err != nil {
		return fmt.Errorf("--rpc: %w", err)
	}
	srv := rpc.NewServer()
	defer srv.Stop()
	if err := srv.RegisterName("mesh", &gossipAPI{g}); err != nil {
		return err
	}
	web := &http.Server{Handler: srv.WebsocketHandler([]string{"*"}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = web.Serve(ln) }()
	defer web.Close()
	fmt.Fprintf(stderr, "node: rpc on ws://%s\n", ln.Addr())
	if err := cli.PrintAddrs(stdout, h); err != nil {
		return err
	}

	go keepDialling(ctx, h, peers)
	status := time.NewTicker(*statusEvery)
	defer status.Stop()
	for {
		// Its peers are those in the topic: netsim starts the workload
		// once the flood reaches the neighbours.
		fmt.Fprintf(stdout, "node: status: round 0, peers %d, held %d, bytes in 0, out 0\n", len(g.topic.ListPeers()), store.Len())
		select {
		case <-ctx.Done():
			return nil
		case <-status.C:
		}
	}
}

// newGossipHost builds the host as ordersync node does (go-libp2p's
// defaults: TCP, Noise, yamux, identify).
func newGossipHost(listen, announce, identity string) (host.Host, error) {
	addr, err := ma.NewMultiaddr(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	opts := []p2phost.Option{p2phost.ListenOn(addr)}
	if identity != "" {
		key, err := cli.LoadOrCreateIdentity(identity)
		if err != nil {
			return nil, err
		}
		opts = append(opts, p2phost.WithIdentity(key))
	}
	if announce != "" {
		a, err := ma.NewMultiaddr(announce)
		if err != nil {
			return nil, fmt.Errorf("--announce: %w", err)
		}
		opts = append(opts, p2phost.WithLibp2pOptions(libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return []ma.Multiaddr{a} })))
	}
	return p2phost.New(opts...)
}

// keepDialling dials every peer that is not connected, now and every
// second, until ctx ends.
func keepDialling(ctx context.Context, h host.Host, peers []peer.AddrInfo) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, ai := range peers {
			if h.Network().Connectedness(ai.ID) != network.Connected {
				dialCtx, cancel := context.WithTimeout(ctx, time.Second)
				_ = h.Connect(dialCtx, ai)
				cancel()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// gossipNode is the baseline's state.
type gossipNode struct {
	h     host.Host
	store *orderstore.Memory
	topic *pubsub.Topic
}

// errExpired is check's answer for an order that expired.
var errExpired = errors.New("expired")

// check decodes and verifies one order as a received one is: well formed,
// hash and signature, not expired by the store's rule.
func (g *gossipNode) check(data []byte) (*zeroex.SignedOrder, error) {
	o := new(zeroex.SignedOrder)
	if err := o.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	if err := zeroex.VerifySignatures([]*zeroex.SignedOrder{o})[0]; err != nil {
		return nil, err
	}
	if rule, ok := g.store.Expiry(); ok && rule.Expired(o) {
		return nil, errExpired
	}
	return o, nil
}

// validate is the topic's validator: an order that does not verify is
// neither forwarded nor stored, and its sender is penalised; one that
// expired on the way is dropped without blame.
func (g *gossipNode) validate(_ context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	o, err := g.check(msg.Data)
	switch {
	case errors.Is(err, errExpired):
		return pubsub.ValidationIgnore
	case err != nil:
		return pubsub.ValidationReject
	}
	msg.ValidatorData = o
	return pubsub.ValidationAccept
}

// receive stores every order the topic delivers from others.
func (g *gossipNode) receive(ctx context.Context, sub *pubsub.Subscription) {
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if msg.ReceivedFrom == g.h.ID() {
			continue // published here, stored already
		}
		if o, ok := msg.ValidatorData.(*zeroex.SignedOrder); ok {
			_, _ = g.store.AddOrders(ctx, []*zeroex.SignedOrder{o})
		}
	}
}

// gossipAPI is the baseline's part of 0x Mesh's API.
type gossipAPI struct{ g *gossipNode }

type gossipAccepted struct {
	OrderHash common.Hash `json:"orderHash"`
	IsNew     bool        `json:"isNew"`
}

type gossipRejected struct {
	OrderHash common.Hash `json:"orderHash"`
	Status    struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

// AddOrders is mesh_addOrders: each order is checked, stored and, when
// new, published.
func (a *gossipAPI) AddOrders(ctx context.Context, orders []json.RawMessage, _ *struct {
	Pinned bool `json:"pinned"`
}) (map[string]any, error) {
	var accepted []gossipAccepted
	var rejected []gossipRejected
	for _, raw := range orders {
		o, err := a.g.check(raw)
		if err != nil {
			r := gossipRejected{}
			r.Status.Code, r.Status.Message = "OrderInvalid", err.Error()
			rejected = append(rejected, r)
			continue
		}
		h, _ := o.ComputeOrderHash()
		added, err := a.g.store.AddOrders(ctx, []*zeroex.SignedOrder{o})
		if err != nil {
			return nil, err
		}
		if added > 0 {
			data, err := o.AppendJSON(nil)
			if err != nil {
				return nil, err
			}
			if err := a.g.topic.Publish(ctx, data); err != nil {
				return nil, err
			}
		}
		accepted = append(accepted, gossipAccepted{OrderHash: h, IsNew: added > 0})
	}
	return map[string]any{"accepted": accepted, "rejected": rejected}, nil
}

// GetOrders is mesh_getOrders, without snapshots: page of the orders held
// now, by hash.
func (a *gossipAPI) GetOrders(ctx context.Context, page, perPage int, _ string) (map[string]any, error) {
	if page < 0 || perPage < 1 || perPage > 1000 {
		return nil, fmt.Errorf("page %d, perPage %d: want page >= 0 and perPage 1 to 1000", page, perPage)
	}
	var infos []map[string]any
	after := common.Hash{}
	for skip := page * perPage; ; {
		batch, err := a.g.store.OrdersAfter(ctx, after, perPage)
		if err != nil {
			return nil, err
		}
		for _, o := range batch {
			h, _ := o.ComputeOrderHash()
			after = h
			if skip > 0 {
				skip--
				continue
			}
			if len(infos) < perPage {
				infos = append(infos, map[string]any{"orderHash": h, "signedOrder": o})
			}
		}
		if len(batch) < perPage || len(infos) == perPage {
			return map[string]any{"snapshotID": "now", "ordersInfos": infos}, nil
		}
	}
}

// Orders is mesh_subscribe "orders": ADDED and EXPIRED (or
// STOPPED_WATCHING) events from the store's change feed.
func (a *gossipAPI) Orders(ctx context.Context) (*rpc.Subscription, error) {
	notifier, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, rpc.ErrNotificationsUnsupported
	}
	feed := a.g.store.Subscribe(orderstore.DefaultFeedBuffer)
	sub := notifier.CreateSubscription()
	go func() {
		defer feed.Close()
		for {
			select {
			case <-sub.Err():
				return
			case c, ok := <-feed.Changes():
				if !ok {
					return
				}
				state := "STOPPED_WATCHING"
				switch c.Kind {
				case orderstore.ChangeAdded:
					state = "ADDED"
				case orderstore.ChangeExpired:
					state = "EXPIRED"
				}
				event := []map[string]any{{"orderHash": c.Hash, "endState": state, "timestamp": time.Now()}}
				if err := notifier.Notify(sub.ID, event); err != nil {
					return
				}
			}
		}
	}()
	return sub, nil
}
