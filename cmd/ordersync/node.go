package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// mdnsServiceName is what ordersync nodes announce themselves as on mDNS.
const mdnsServiceName = "ordersync"

// runNode is "ordersync node": a long-running node that serves its store,
// runs GetOrders at start-up and SyncNeighbors rounds afterwards, syncs
// with each peer that connects as soon as it is identified (see
// connectSyncer), keeps every order it gets, and stops cleanly when ctx
// ends (SIGINT, SIGTERM).
//
// Its stdout is for programs: first the addresses it listens on (as serve
// prints them), then one line per sync round and, with --status-every, a
// status line that often; see nodeReporter.
func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseNodeFlags(args, stderr)
	if err != nil {
		return err
	}
	log := cfg.log
	priv, err := cli.LoadKeyOrNil(cfg.identity)
	if err != nil {
		return err
	}
	h, err := newNodeHost(cfg, priv)
	if err != nil {
		return err
	}
	defer h.Close()
	mon, err := startMonitor("node", cfg.monitor, stderr)
	if err != nil {
		return err
	}
	defer mon.Close()

	store, held, closeStore, err := openNodeStore(ctx, cfg.db, cfg.rpc)
	if err != nil {
		return err
	}
	defer closeStore()
	if cfg.orders != "" {
		if err := cli.LoadOrdersInto(ctx, store, "node", cfg.orders, stderr, log); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}

	node := ordersync.NewHostNode(h)
	subs, err := nodeSubprotocols(cfg, store, node)
	if err != nil {
		return err
	}
	rep := &nodeReporter{out: stdout, held: held, h: h}
	// The start-up GetOrders ends a round: the tracer reports it there,
	// and passes every event on to the monitor's; runNodeSyncs reports
	// the rounds after it.
	var inner ordersync.MetricsTracer = ordersync.NoopMetricsTracer{}
	if mon.tracer != nil {
		inner = mon.tracer
	}
	service := ordersync.New(ctx, node, subs,
		ordersync.WithMetricsTracer(roundTracer{MetricsTracer: inner, rep: rep}),
		ordersync.WithLogger(log),
		ordersync.WithLanes(cfg.lanes),
		ordersync.WithPipelining(!cfg.noPipeline))
	rep.service = service
	defer startNews(ctx, cfg, service, node, store, stderr)()
	stopRPC, err := startRPC(cfg.rpc, store, held, h, log, stderr)
	if err != nil {
		return err
	}
	defer stopRPC()

	if err := cli.PrintAddrs(stdout, h); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	if !cfg.serveOnly {
		// A peer that connects is synced with once identify says it
		// speaks ordersync, not an interval later.
		connects, err := newConnectSyncer(h, service.SyncPeer, cfg.interval, log)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			connects.run(bgCtx)
		}()
	}
	// Dial the bootstrap peers before the first sync, so that it does not
	// begin with a backoff for want of peers; one that cannot be reached
	// now is dialled again later.
	dialCtx, cancelDial := context.WithTimeout(ctx, 10*time.Second)
	_ = cli.ConnectPeers(dialCtx, h, cfg.peers, 0, log)
	cancelDial()

	wg.Add(1)
	go func() {
		defer wg.Done()
		keepPeersConnected(bgCtx, h, cfg.peers, cfg.interval, log)
	}()
	if cfg.statusEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.statusEvery(bgCtx, cfg.statusEvery)
		}()
	}
	if cfg.mdns {
		md := mdns.NewMdnsService(h, mdnsServiceName, mdnsConnector{ctx: bgCtx, h: h})
		if err := md.Start(); err != nil {
			return fmt.Errorf("mdns: %w", err)
		}
		defer md.Close()
	}

	err = runNodeSyncs(ctx, service, cfg, rep)
	if cfg.statusEvery > 0 {
		stopBackground()
		wg.Wait()
		rep.status() // the final counts, for whoever follows the lines
	}
	st := service.Stats()
	// Orders received beyond the new ones are copies paid for twice.
	fmt.Fprintf(stderr, "node: stopping: %d orders held, %d rounds, %d requests served, %d bytes read, %d bytes written, %d orders received, %d new\n",
		held(), rep.rounds.Load(), st.RequestsServed, st.BytesRead, st.BytesWritten, st.OrdersReceived, st.OrdersNew)
	return err
}

// runNodeSyncs is the requester's life: GetOrders at start-up, then, one
// interval later, a round of SyncNeighbors every interval until ctx ends;
// after a start-up or round that brought a bulk of new orders the next
// round comes sooner (ordersync's RoundDelay).
// An end by ctx is no error.
func runNodeSyncs(ctx context.Context, service *ordersync.Service, cfg *nodeConfig, rep *nodeReporter) error {
	if cfg.serveOnly {
		<-ctx.Done()
		return nil
	}
	start := time.Now()
	before := service.Stats().OrdersNew
	err := service.GetOrders(ctx, cfg.minPeers)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	rep.startup(time.Since(start)) // its round line came from roundTracer
	// Then a round with whoever is connected, each interval (sooner while
	// rounds bring a bulk of orders: see RoundDelay): waiting for
	// --min-peers again would stall the node while fewer are there.
	for {
		select {
		case <-time.After(service.RoundDelay(service.Stats().OrdersNew-before, cfg.interval)):
		case <-ctx.Done():
			return nil
		}
		before = service.Stats().OrdersNew
		if _, err := service.SyncNeighbors(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		rep.round()
	}
}

// openNodeStore opens the store --db names, or a memory store without it,
// either with the expiry and capacity of r's flags. held counts the
// orders in it (-1 if the database cannot say); close closes it.
func openNodeStore(ctx context.Context, dsn string, r *rpcFlags) (store orderstore.Store, held func() int, close func(), err error) {
	if dsn == "" {
		m := orderstore.NewMemory(r.memoryOptions()...)
		return m, m.Len, func() { _ = m.Close() }, nil
	}
	db, err := sqlstore.Open(ctx, dsn, r.dbOptions()...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--db: %w", err)
	}
	held = func() int {
		n, err := db.Len(context.Background())
		if err != nil {
			return -1
		}
		return n
	}
	return db, held, func() { _ = db.Close() }, nil
}

// nodeSubprotocols builds the subprotocols of cfg over store.
func nodeSubprotocols(cfg *nodeConfig, store orderstore.Store, node *ordersync.HostNode) ([]ordersync.Subprotocol, error) {
	subs := make([]ordersync.Subprotocol, 0, len(cfg.subprotocols))
	for _, name := range cfg.subprotocols {
		sub, err := cli.NewSubprotocol(name, store, nil, node, pagination.WithPerPage(cfg.perPage))
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, nil
}

// newNodeHost starts the node's libp2p host; with --announce it tells peers
// those addresses instead of the ones it listens on.
func newNodeHost(cfg *nodeConfig, priv crypto.PrivKey) (host.Host, error) {
	opts := []p2phost.Option{p2phost.ListenOn(cfg.listen)}
	if priv != nil {
		opts = append(opts, p2phost.WithIdentity(priv))
	}
	if len(cfg.announce) > 0 {
		announce := cfg.announce
		opts = append(opts, p2phost.WithLibp2pOptions(libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return announce })))
	}
	return p2phost.New(opts...)
}

// keepPeersConnected dials every bootstrap peer that is not connected, at
// once and then every interval, so that a peer that restarted is found
// again.
func keepPeersConnected(ctx context.Context, h host.Host, peers []peer.AddrInfo, interval time.Duration, log interface{ Debugf(string, ...any) }) {
	if len(peers) == 0 {
		return
	}
	retry := min(interval, 2*time.Second)
	for {
		var wg sync.WaitGroup
		for _, ai := range peers {
			if h.Network().Connectedness(ai.ID) == network.Connected {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				dialCtx, cancel := context.WithTimeout(ctx, retry)
				defer cancel()
				if err := h.Connect(dialCtx, ai); err != nil && ctx.Err() == nil {
					log.Debugf("node: cannot reach bootstrap peer %s: %v", ai.ID, err)
				}
			}()
		}
		wg.Wait()
		select {
		case <-time.After(retry):
		case <-ctx.Done():
			return
		}
	}
}

// mdnsConnector connects to every peer mDNS finds.
type mdnsConnector struct {
	ctx context.Context
	h   host.Host
}

func (m mdnsConnector) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.h.ID() {
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	defer cancel()
	_ = m.h.Connect(ctx, ai) // The next announcement retries.
}

// nodeReporter prints the node's round and status lines on stdout:
//
//	node: round R: peers P, held H, new N, bytes in I (+DI), out O (+DO)
//	node: status: round R, peers P, held H, bytes in I, out O
//	node: start-up sync: peers P, held H, bytes in I, took T
//
// where held counts the orders in the store, new those added since the
// previous round line, and bytes ordersync stream bytes in both roles.
type nodeReporter struct {
	out     io.Writer
	held    func() int
	h       host.Host
	service *ordersync.Service

	mu              sync.Mutex
	rounds          atomic.Int64
	lastHeld        int
	lastIn, lastOut int64
}

// roundTracer is the node's MetricsTracer: inner's, and a round line each
// time a GetOrders ends.
type roundTracer struct {
	ordersync.MetricsTracer
	rep *nodeReporter
}

// GetOrdersEnded reports the round after passing the event on.
func (t roundTracer) GetOrdersEnded(synced, minPeers int, d time.Duration, err error) {
	t.MetricsTracer.GetOrdersEnded(synced, minPeers, d, err)
	t.rep.round()
}

// round writes a round line: peers, orders held, and the bytes since the
// last line.
func (r *nodeReporter) round() {
	if r.service == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.service.Stats()
	held := r.held()
	n := r.rounds.Add(1)
	fmt.Fprintf(r.out, "node: round %d: peers %d, held %d, new %d, bytes in %d (+%d), out %d (+%d)\n",
		n, len(r.h.Network().Peers()), held, held-r.lastHeld, st.BytesRead, st.BytesRead-r.lastIn, st.BytesWritten, st.BytesWritten-r.lastOut)
	r.lastHeld, r.lastIn, r.lastOut = held, st.BytesRead, st.BytesWritten
}

// startup reports the start-up sync, which took took:
//
//	node: start-up sync: peers P, held H, bytes in I, took T
func (r *nodeReporter) startup(took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.service.Stats()
	fmt.Fprintf(r.out, "node: start-up sync: peers %d, held %d, bytes in %d, took %v\n",
		len(r.h.Network().Peers()), r.held(), st.BytesRead, took)
}

func (r *nodeReporter) status() {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.service.Stats()
	fmt.Fprintf(r.out, "node: status: round %d, peers %d, held %d, bytes in %d, out %d\n",
		r.rounds.Load(), len(r.h.Network().Peers()), r.held(), st.BytesRead, st.BytesWritten)
}

func (r *nodeReporter) statusEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		r.status()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
