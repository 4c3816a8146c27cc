package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify/pb"
	"github.com/libp2p/go-msgio/pbio"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
)

// plainHost is a loopback host without testnet's wrapper, which records a
// protocol set up after connecting in its peers' peerstores itself: here
// the peers must learn it from identify, and its events, as nodes do.
func plainHost(t *testing.T) host.Host {
	t.Helper()
	h, err := p2phost.New(p2phost.Loopback())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// connect connects a to b and waits for a's identify of b to end.
func connect(t *testing.T, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), p2phost.ConnectTimeout)
	defer cancel()
	if err := p2phost.Connect(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	ids := a.(interface{ IDService() identify.IDService }).IDService()
	for _, c := range a.Network().ConnsToPeer(b.ID()) {
		select {
		case <-ids.IdentifyWait(c):
		case <-ctx.Done():
			t.Fatalf("identify of %s did not end", b.ID())
		}
	}
}

// testNode is a Service on h over a memory store holding n orders of seed.
func testNode(t *testing.T, h host.Host, seed int64, n int) (*ordersync.Service, *orderstore.Memory) {
	t.Helper()
	store := orderstore.NewMemory()
	t.Cleanup(func() { _ = store.Close() })
	if n > 0 {
		if _, err := store.AddOrders(t.Context(), ordergen.Generate(ordergen.Options{Seed: seed, Count: n})); err != nil {
			t.Fatal(err)
		}
	}
	node := ordersync.NewHostNode(h)
	sub, err := cli.NewSubprotocol(filteredpagination.Name, store, nil, node)
	if err != nil {
		t.Fatal(err)
	}
	s := ordersync.New(t.Context(), node, []ordersync.Subprotocol{sub})
	t.Cleanup(func() { _ = s.Close() })
	return s, store
}

// syncLog records the connect syncer's syncs.
type syncLog struct {
	t       *testing.T
	ended   chan peer.ID
	running atomic.Int32
	mu      sync.Mutex
	most    int32
	count   map[peer.ID]int
}

func newSyncLog(t *testing.T) *syncLog {
	return &syncLog{t: t, ended: make(chan peer.ID, 64), count: make(map[peer.ID]int)}
}

// wrap counts the syncs of sync that run at once, and how many there are
// per peer.
func (l *syncLog) wrap(sync func(context.Context, peer.ID) error) func(context.Context, peer.ID) error {
	return func(ctx context.Context, p peer.ID) error {
		n := l.running.Add(1)
		defer l.running.Add(-1)
		l.mu.Lock()
		l.most = max(l.most, n)
		l.count[p]++
		l.mu.Unlock()
		return sync(ctx, p)
	}
}

func (l *syncLog) Debugf(format string, args ...any) { l.t.Logf(format, args...) }

// waitSynced waits for the connect syncer to end a sync with p.
func (l *syncLog) waitSynced(p peer.ID) {
	l.t.Helper()
	for {
		select {
		case q := <-l.ended:
			if q == p {
				return
			}
		case <-l.t.Context().Done():
			l.t.Fatalf("no sync with %s", p)
		}
	}
}

// startConnectSyncer runs a connect syncer for service on h until the test
// ends.
func startConnectSyncer(t *testing.T, h host.Host, service *ordersync.Service, cooldown time.Duration) *syncLog {
	t.Helper()
	l := newSyncLog(t)
	c, err := newConnectSyncer(h, l.wrap(service.SyncPeer), cooldown, l)
	if err != nil {
		t.Fatal(err)
	}
	c.synced = func(p peer.ID, err error) {
		if err != nil {
			t.Errorf("sync with %s on connecting: %v", p, err)
		}
		l.ended <- p
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// A node syncs with a peer as soon as it connects and is identified as
// speaking ordersync, without waiting for a round; a peer that then
// disconnects and connects again and again gets no more syncs within the
// cooldown, and never more than connectSyncs at once.
func TestNodeSyncsPeerOnConnect(t *testing.T) {
	requesterHost, providerHost := plainHost(t), plainHost(t)
	requester, held := testNode(t, requesterHost, 0, 0)
	testNode(t, providerHost, 31, 40)
	syncs := startConnectSyncer(t, requesterHost, requester, time.Hour)

	connect(t, requesterHost, providerHost)
	syncs.waitSynced(providerHost.ID())
	if n := held.Len(); n != 40 {
		t.Fatalf("the requester holds %d orders after the sync on connecting, want 40", n)
	}

	// A third peer that connects last is synced after the flapping one's
	// events: by then every reconnection has been seen.
	for range 20 {
		if err := requesterHost.Network().ClosePeer(providerHost.ID()); err != nil {
			t.Fatal(err)
		}
		connect(t, providerHost, requesterHost)
	}
	lastHost := plainHost(t)
	testNode(t, lastHost, 32, 5)
	connect(t, lastHost, requesterHost)
	syncs.waitSynced(lastHost.ID())
	syncs.mu.Lock()
	defer syncs.mu.Unlock()
	if n := syncs.count[providerHost.ID()]; n != 1 {
		t.Errorf("%d syncs with a peer that reconnected 20 times within the cooldown, want 1", n)
	}
	if syncs.most > connectSyncs {
		t.Errorf("%d syncs on connecting ran at once, want at most %d", syncs.most, connectSyncs)
	}
}

// A peer connected before it speaks ordersync is left out of rounds and
// not synced; once identify's push says it speaks ordersync, it is synced
// at once, and offered by the next round.
func TestNodeSyncsPeerIdentifiedLate(t *testing.T) {
	requesterHost, lateHost := plainHost(t), plainHost(t)
	requester, held := testNode(t, requesterHost, 0, 0)
	syncs := startConnectSyncer(t, requesterHost, requester, time.Hour)
	connect(t, requesterHost, lateHost)

	round, err := requester.SyncNeighbors(t.Context())
	if err != nil || round.Peers != 0 {
		t.Fatalf("a round with a peer that does not speak ordersync: %+v, %v; want no peer tried", round, err)
	}

	testNode(t, lateHost, 33, 25) // speaks ordersync from now on
	syncs.waitSynced(lateHost.ID())
	if n := held.Len(); n != 25 {
		t.Fatalf("the requester holds %d orders after the late peer's sync, want 25", n)
	}
	round, err = requester.SyncNeighbors(t.Context())
	if err != nil || round.Peers != 1 || round.Synced != 1 {
		t.Fatalf("the next round: %+v, %v; want the late peer tried and synced", round, err)
	}
}

// A peer whose identify has not ended when a round asks for neighbours is
// left out of it; when identify ends, listing ordersync, the peer is
// synced at once and offered by the next round. The peer holds back its
// answer to the requester's identify until the test gives it.
func TestNodeSyncsPeerWhoseIdentifyEndsLate(t *testing.T) {
	requesterHost, lateHost := plainHost(t), plainHost(t)
	requester, held := testNode(t, requesterHost, 0, 0)
	syncs := startConnectSyncer(t, requesterHost, requester, time.Hour)
	asked := make(chan network.Stream, 1)
	lateHost.SetStreamHandler(identify.ID, func(s network.Stream) { asked <- s })
	testNode(t, lateHost, 34, 15)

	// The late peer dials, so that its Connect waits for its own
	// identify of the requester only.
	if err := p2phost.Connect(t.Context(), lateHost, requesterHost); err != nil {
		t.Fatal(err)
	}
	var idStream network.Stream
	select {
	case idStream = <-asked: // the requester's identify of it is under way
	case <-t.Context().Done():
		t.Fatal("the requester never asked the late peer to identify itself")
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel() // a round that may not wait for identify
	if got := ordersync.NewHostNode(requesterHost).NeighborsSupporting(ended, ordersync.ID); len(got) != 0 {
		t.Fatalf("neighbours %v before identify ended, want none", got)
	}

	var protocols []string
	for _, p := range lateHost.Mux().Protocols() {
		protocols = append(protocols, string(p))
	}
	if err := pbio.NewDelimitedWriter(idStream).WriteMsg(&pb.Identify{Protocols: protocols}); err != nil {
		t.Fatal(err)
	}
	_ = idStream.Close()
	syncs.waitSynced(lateHost.ID())
	if n := held.Len(); n != 15 {
		t.Fatalf("the requester holds %d orders after the late peer's sync, want 15", n)
	}
	round, err := requester.SyncNeighbors(t.Context())
	if err != nil || round.Peers != 1 || round.Synced != 1 {
		t.Fatalf("the next round: %+v, %v; want the late peer tried and synced", round, err)
	}
}
