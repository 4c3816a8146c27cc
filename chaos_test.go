package ordersync_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/leakcheck"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// chaosPerPage makes syncs long enough to be cut at many points: 100
// orders a page, so a provider of 1000 orders answers 11 pages.
const chaosPerPage = 100

// chaosOrders are the orders chaos providers serve, made once.
var chaosOrders = sync.OnceValue(func() []*zeroex.SignedOrder {
	return ordergen.Generate(ordergen.Options{Seed: 11, Count: 2000})
})

// chaosSeed is the seed of a test's random schedule: ORDERSYNC_CHAOS_SEED
// if set, so that a failure can be replayed, and the clock otherwise. It is
// logged either way.
func chaosSeed(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ORDERSYNC_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("ORDERSYNC_CHAOS_SEED %q: %v", s, err)
		}
	}
	t.Logf("chaos seed %d (set ORDERSYNC_CHAOS_SEED=%d to replay)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0))
}

// chaosRounds is how many random cuts a test makes: a few by default,
// fewer with -short, more with ORDERSYNC_CHAOS_LONG set.
func chaosRounds(normal int) int {
	switch {
	case os.Getenv("ORDERSYNC_CHAOS_LONG") != "":
		return normal * 10
	case testing.Short():
		return max(normal/2, 1)
	}
	return normal
}

// checkNoLeaks fails t if goroutines started during the test are still
// running when its cleanups (host closes among them) are done. Call it
// before starting anything.
func checkNoLeaks(t *testing.T) {
	leaks := leakcheck.Start(t)
	t.Cleanup(func() { leaks.Verify(t) })
}

// chaosNode is a provider's Node that counts the responses its Service
// writes and calls fire, once, on the stream of the at-th one.
type chaosNode struct {
	*ordersync.HostNode
	mu      sync.Mutex
	written int
	at      int // 0: never
	fire    func(s network.Stream)
	corrupt bool // write a malformed message in place of response at
}

func (n *chaosNode) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	n.HostNode.SetStreamHandler(pid, func(s network.Stream) {
		handler(&chaosStream{Stream: s, node: n})
	})
}

// arm makes the node fire after at more responses (0: disarm).
func (n *chaosNode) arm(at int, fire func(s network.Stream)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.written, n.at, n.fire, n.corrupt = 0, at, fire, false
}

// armCorrupt makes the node write a malformed message in place of the
// at-th response from now.
func (n *chaosNode) armCorrupt(at int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.written, n.at, n.fire, n.corrupt = 0, at, nil, true
}

// responses is how many responses the node wrote since it was last armed.
func (n *chaosNode) responses() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.written
}

// checkResumed checks that the sync after a cut at response k (of pages,
// the last one complete) resumed instead of starting over: it took
// responses k to pages at most, k itself again in case it was lost.
func checkResumed(t *testing.T, provider *chaosProvider, k, pages int) {
	t.Helper()
	if got, most := provider.node.responses(), pages-k+1; got > most {
		t.Errorf("the sync after the cut took %d responses, more than the %d left from response %d: it did not resume", got, most, k)
	}
}

// chaosStream is a provider stream whose responses count towards its
// node's schedule. A response may take several writes; the one that ends
// it ends with a newline.
type chaosStream struct {
	network.Stream
	node       *chaosNode
	corrupting bool // the response being written is replaced
}

func (s *chaosStream) Write(p []byte) (int, error) {
	ends := len(p) > 0 && p[len(p)-1] == '\n'
	s.node.mu.Lock()
	hit := s.node.written+1 == s.node.at // p belongs to the at-th response
	if ends {
		s.node.written++
	}
	var fire func(network.Stream)
	corrupt := false
	if hit {
		fire, corrupt = s.node.fire, s.node.corrupt
	}
	s.node.mu.Unlock()
	if corrupt {
		if !s.corrupting {
			s.corrupting = true
			if _, err := io.WriteString(s.Stream, `{"type":"Response","orders":]}`+"\n"); err != nil {
				return 0, err
			}
		}
		s.corrupting = !ends
		return len(p), nil
	}
	n, err := s.Stream.Write(p)
	if err == nil && ends && fire != nil {
		fire(s.Stream)
	}
	return n, err
}

// chaosProvider serves store on a new host through a chaosNode.
type chaosProvider struct {
	host  host.Host
	node  *chaosNode
	store *orderstore.Memory
}

func startChaosProvider(t *testing.T, orders []*zeroex.SignedOrder) *chaosProvider {
	t.Helper()
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	return serveChaosStore(t, store)
}

// serveChaosStore starts a provider of store on a new host, with a new
// peer ID.
func serveChaosStore(t *testing.T, store *orderstore.Memory) *chaosProvider {
	t.Helper()
	h := testnet.NewHost(t)
	node := &chaosNode{HostNode: ordersync.NewHostNode(h)}
	opt := pagination.WithPerPage(chaosPerPage)
	subs := []ordersync.Subprotocol{filteredpagination.New(store, nil, opt), ordinal.New(store, nil, opt)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ordersync.New(ctx, node, subs,
		ordersync.WithLogger(testLogger(t)),
		ordersync.WithMessageTimeout(5*time.Second),
		ordersync.WithRateLimit(rate.Inf, 0), ordersync.WithPeerRateLimit(rate.Inf, 0))
	return &chaosProvider{host: h, node: node, store: store}
}

// waitDisconnected returns once h has no connection to p.
func waitDisconnected(t *testing.T, h host.Host, p peer.ID) {
	t.Helper()
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	// Subscribe first, then check, so that no event is missed.
	for h.Network().Connectedness(p) == network.Connected {
		select {
		case <-sub.Out():
		case <-guard.C:
			t.Fatalf("%s still connected to %s after %v", h.ID(), p, hangGuard)
		}
	}
}

// countingStore is a requester's store that checks every batch it is given
// and calls onAdd after each.
type countingStore struct {
	*orderstore.Memory
	t     *testing.T
	mu    sync.Mutex
	adds  int
	onAdd func(adds int)
}

func (s *countingStore) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	seen := make(map[common.Hash]bool, len(orders))
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			s.t.Errorf("requester stored an order without a hash: %v", err)
			continue
		}
		if seen[h] {
			s.t.Errorf("requester stored order %s twice in one batch", h)
		}
		seen[h] = true
	}
	n, err := s.Memory.AddOrders(ctx, orders)
	s.mu.Lock()
	s.adds++
	adds, onAdd := s.adds, s.onAdd
	s.mu.Unlock()
	if onAdd != nil {
		onAdd(adds)
	}
	return n, err
}

func (s *countingStore) setOnAdd(f func(adds int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adds, s.onAdd = 0, f
}

// chaosRequester is a requester on a new host. Its backoff gives up after
// a few quick rounds, so that a GetOrders whose providers are gone returns
// soon.
type chaosRequester struct {
	host    host.Host
	store   *countingStore
	service *ordersync.Service
}

func startChaosRequester(t *testing.T) *chaosRequester {
	t.Helper()
	h := testnet.NewHost(t)
	store := &countingStore{Memory: orderstore.NewMemory(), t: t}
	node := ordersync.NewHostNode(h)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	service := ordersync.New(ctx, node, realSubprotocols(store, node),
		ordersync.WithLogger(testLogger(t)),
		ordersync.WithMessageTimeout(5*time.Second),
		// One lane: checkResumed counts one lane's pages. Lanes that
		// resume are tested in lanes_test.go.
		ordersync.WithLanes(1),
		ordersync.WithBackoffFactory(func() backoff.BackOff {
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(10*time.Millisecond), 4)
		}))
	return &chaosRequester{host: h, store: store, service: service}
}

// getOrders runs GetOrders with a hang guard.
func (r *chaosRequester) getOrders(ctx context.Context, minPeers int) error {
	ctx, cancel := context.WithTimeout(ctx, hangGuard)
	defer cancel()
	return r.service.GetOrders(ctx, minPeers)
}

// mustSync runs GetOrders to success.
func (r *chaosRequester) mustSync(t *testing.T, minPeers int) {
	t.Helper()
	if err := r.getOrders(context.Background(), minPeers); err != nil {
		t.Fatalf("GetOrders after the chaos: %v (stats %+v)", err, r.service.Stats())
	}
}

// checkHolds checks that the requester holds exactly the orders of stores.
func (r *chaosRequester) checkHolds(t *testing.T, stores ...*orderstore.Memory) {
	t.Helper()
	var want []common.Hash
	for _, s := range stores {
		want = append(want, storeHashes(t, s)...)
	}
	slices.SortFunc(want, func(a, b common.Hash) int { return a.Cmp(b) })
	want = slices.Compact(want)
	got := storeHashes(t, r.store.Memory)
	if !slices.Equal(got, want) {
		missing, extra := 0, 0
		for _, h := range want {
			if !r.store.Has(h) {
				missing++
			}
		}
		for _, h := range got {
			if _, ok := slices.BinarySearchFunc(want, h, func(a, b common.Hash) int { return a.Cmp(b) }); !ok {
				extra++
			}
		}
		t.Fatalf("requester holds %d orders, want %d: %d missing, %d it should not have", len(got), len(want), missing, extra)
	}
	if r.store.Len() != len(want) {
		t.Fatalf("requester's store counts %d orders for %d distinct hashes", r.store.Len(), len(want))
	}
}

// TestChaosConnectionClosed closes the provider's connection to the
// requester after a random number of responses, then reconnects: the
// resumed sync must end with exactly the provider's orders.
func TestChaosConnectionClosed(t *testing.T) {
	checkNoLeaks(t)
	rng := chaosSeed(t)
	provider := startChaosProvider(t, chaosOrders()[:1000])
	pages := 1000/chaosPerPage + 1 // the last, empty page says complete
	for round := range chaosRounds(6) {
		k := 1 + rng.IntN(pages)
		requester := startChaosRequester(t)
		testnet.Connect(t, requester.host, provider.host)
		provider.node.arm(k, func(s network.Stream) { _ = s.Conn().Close() })
		err := requester.getOrders(context.Background(), 1)
		provider.node.arm(0, nil)
		t.Logf("round %d: connection closed after response %d of %d; GetOrders: %v", round, k, pages, err)

		// Reconnect only once the closed connection is gone: dialing
		// earlier may hand back the dying one.
		waitDisconnected(t, requester.host, provider.host.ID())
		testnet.Connect(t, requester.host, provider.host)
		requester.mustSync(t, 1)
		requester.checkHolds(t, provider.store)
		checkResumed(t, provider, k, pages)
		_ = requester.host.Close()
	}
}

// TestChaosRequesterCancelled cancels the requester's context after a
// random number of pages, then syncs again: exactly the provider's orders.
func TestChaosRequesterCancelled(t *testing.T) {
	checkNoLeaks(t)
	rng := chaosSeed(t)
	provider := startChaosProvider(t, chaosOrders()[:1000])
	pages := 1000/chaosPerPage + 1 // the last, empty page says complete
	for round := range chaosRounds(6) {
		k := 1 + rng.IntN(pages-1) // AddOrders sees the pages with orders

		requester := startChaosRequester(t)
		testnet.Connect(t, requester.host, provider.host)
		ctx, cancel := context.WithCancel(context.Background())
		requester.store.setOnAdd(func(adds int) {
			if adds == k {
				cancel()
			}
		})
		err := requester.getOrders(ctx, 1)
		requester.store.setOnAdd(nil)
		provider.node.arm(0, nil)
		cancel()
		t.Logf("round %d: cancelled after page %d of %d; GetOrders: %v", round, k, pages, err)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled GetOrders returned %v, want an error wrapping context.Canceled", err)
		}

		requester.mustSync(t, 1)
		requester.checkHolds(t, provider.store)
		checkResumed(t, provider, k, pages)
		_ = requester.host.Close()
	}
}

// TestChaosProviderKilled closes one of three providers' host while the
// requester syncs with all three, then brings its orders back on a new
// host: the requester must end with exactly the union of the three stores.
func TestChaosProviderKilled(t *testing.T) {
	checkNoLeaks(t)
	rng := chaosSeed(t)
	orders := chaosOrders()
	for round := range chaosRounds(2) {
		// Overlapping sets: a and b share 500 orders, b and c 500.
		a := startChaosProvider(t, orders[:1000])
		b := startChaosProvider(t, orders[500:1500])
		c := startChaosProvider(t, orders[1000:2000])
		requester := startChaosRequester(t)
		for _, p := range []*chaosProvider{a, b, c} {
			testnet.Connect(t, requester.host, p.host)
		}
		k := 1 + rng.IntN(1000/chaosPerPage)
		killed := make(chan struct{})
		b.node.arm(k, func(network.Stream) {
			// Closing the host waits for its streams, this one among them:
			// close it from elsewhere.
			go func() {
				defer close(killed)
				_ = b.host.Close()
			}()
		})
		err := requester.getOrders(context.Background(), 3)
		<-killed
		t.Logf("round %d: provider b killed after response %d; GetOrders: %v", round, k, err)
		if err == nil {
			t.Errorf("GetOrders synced with 3 peers though one died before its last page")
		}

		// b's orders come back on a new host, as a restarted node would.
		b2 := serveChaosStore(t, b.store)
		testnet.Connect(t, requester.host, b2.host)
		requester.mustSync(t, 3)
		requester.checkHolds(t, a.store, b.store, c.store)
		for _, h := range []host.Host{requester.host, a.host, b2.host, c.host} {
			_ = h.Close()
		}
	}
}

// TestChaosCorruptedResponse has the provider send one malformed message
// in place of a random response: the requester drops that sync (an invalid
// message cannot be resumed from) and must start over from the beginning in
// the next round and finish, without blaming the provider for the orders
// it sends again.
func TestChaosCorruptedResponse(t *testing.T) {
	checkNoLeaks(t)
	rng := chaosSeed(t)
	provider := startChaosProvider(t, chaosOrders()[:1000])
	pages := 1000/chaosPerPage + 1
	for round := range chaosRounds(4) {
		k := 2 + rng.IntN(pages-2) // after a page or more, so that there is a cursor
		requester := startChaosRequester(t)
		testnet.Connect(t, requester.host, provider.host)
		provider.node.armCorrupt(k)
		err := requester.getOrders(context.Background(), 1)
		provider.node.arm(0, nil)
		st := requester.service.Stats()
		t.Logf("round %d: response %d of %d corrupted; GetOrders: %v; syncs failed %d; last error %q",
			round, k, pages, err, st.SyncsFailed, st.Providers[provider.host.ID()].LastError)
		if err != nil {
			t.Fatalf("GetOrders: %v", err)
		}
		requester.checkHolds(t, provider.store)
		info := requester.host.ConnManager().GetTagInfo(provider.host.ID())
		var invalidOrder int
		if info != nil {
			invalidOrder = info.Tags[peerscore.InvalidOrder]
		}
		_ = requester.host.Close()
		if st.SyncsFailed != 1 || invalidOrder != 0 {
			t.Fatalf("the sync that started over after the corrupted response was judged against the old cursor: "+
				"%d failed syncs instead of 1 (%s score %d)", st.SyncsFailed, peerscore.InvalidOrder, invalidOrder)
		}
	}
}
