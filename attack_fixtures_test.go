// The attack suites' shared fixtures: the attacked provider, its orders, the
// honest sync that must still work, and the heap sampler.
package ordersync_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// The attacked provider's settings: the Service's defaults, except a short
// message timeout so that attacks that stall end within seconds. It is not
// shorter because honest syncs share it: at 750 ms, a page of 2 000 orders
// under the race detector on a loaded 2-core machine missed it now and then,
// and the hostile-provider cases failed for an honest sync that did not end.
const (
	attackOrderCount = 2000
	attackTimeout    = 2 * time.Second
	attackMaxRequest = ordersync.DefaultMaxRequestSize
	// readBuffer is the most a provider may read from a stream beyond the
	// message bytes it takes: its bufio buffer (internal/wire/framing).
	readBuffer = 4096
	// heapBound is how far above its baseline the heap may grow during an
	// attack.
	heapBound = 64 << 20
	// hangGuard bounds every wait of the tests: no attack comes near it
	// when the Service behaves, so reaching it is a hang, not slowness.
	hangGuard = 20 * time.Second
)

// attackOrders are the signed orders every attacked provider holds; signing
// is the slow part, so they are made once.
var attackOrders = sync.OnceValue(func() []*zeroex.SignedOrder {
	return ordergen.Generate(ordergen.Options{Seed: 7, Count: attackOrderCount})
})

// testLogger is quiet unless ORDERSYNC_TEST_LOG is set: attacks make a
// provider log a warning each, by design.
func testLogger(t testing.TB) logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	if os.Getenv("ORDERSYNC_TEST_LOG") != "" {
		l.SetOutput(os.Stderr)
		l.SetLevel(logrus.DebugLevel)
	}
	return l.WithField("test", t.Name())
}

// watchedNode is a provider's Node with its stream handler wrapped: it
// counts the bytes the Service reads from inbound streams, independently of
// the Service's own Stats, and knows when the Service is done with them.
type watchedNode struct {
	*ordersync.HostNode
	bytesRead atomic.Int64
	entered   atomic.Int64
	active    atomic.Int64
	changed   chan struct{} // has a token after entered or active changed
}

func newWatchedNode(h host.Host) *watchedNode {
	return &watchedNode{HostNode: ordersync.NewHostNode(h), changed: make(chan struct{}, 1)}
}

func (n *watchedNode) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	n.HostNode.SetStreamHandler(pid, func(s network.Stream) {
		n.active.Add(1)
		n.entered.Add(1)
		n.signal()
		defer func() {
			n.active.Add(-1)
			n.signal()
		}()
		handler(&countingStream{Stream: s, read: &n.bytesRead})
	})
}

func (n *watchedNode) signal() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

// waitDone waits until the Service has taken at least entered streams in
// all and is serving none.
func (n *watchedNode) waitDone(t testing.TB, entered int64) {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	for n.entered.Load() < entered || n.active.Load() != 0 {
		select {
		case <-n.changed:
		case <-guard.C:
			t.Fatalf("provider still serves %d streams (took %d of %d) after %v", n.active.Load(), n.entered.Load(), entered, hangGuard)
		}
	}
}

// countingStream counts the bytes read through it.
type countingStream struct {
	network.Stream
	read *atomic.Int64
}

func (s *countingStream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	s.read.Add(int64(n))
	return n, err
}

// target is the attacked provider: a real host serving a store of signed
// orders with both real subprotocols.
type target struct {
	host    host.Host
	node    *watchedNode
	service *ordersync.Service
	want    []common.Hash // the store's order hashes, ascending
}

// startTarget starts a provider on a new host; extra options come after the
// attack settings.
func startTarget(t testing.TB, orders []*zeroex.SignedOrder, extra ...ordersync.Option) *target {
	t.Helper()
	h := testnet.NewHost(t)
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	node := newWatchedNode(h)
	subs := realSubprotocols(store, node)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts := append([]ordersync.Option{
		ordersync.WithLogger(testLogger(t)),
		ordersync.WithMessageTimeout(attackTimeout),
		ordersync.WithMaxRequestSize(attackMaxRequest),
	}, extra...)
	service := ordersync.New(ctx, node, subs, opts...)
	return &target{host: h, node: node, service: service, want: storeHashes(t, store)}
}

// realSubprotocols are the network's subprotocols over store, most
// preferred first, as a node runs them.
func realSubprotocols(store orderstore.Store, scorer pagination.PeerScorer) []ordersync.Subprotocol {
	opt := pagination.WithPeerScorer(scorer)
	return []ordersync.Subprotocol{
		filteredpagination.New(store, nil, opt),
		ordinal.New(store, nil, opt),
	}
}

// storeHashes lists the hashes a store holds, ascending.
func storeHashes(t testing.TB, store *orderstore.Memory) []common.Hash {
	t.Helper()
	var out []common.Hash
	err := store.Each(context.Background(), func(h common.Hash, _ *zeroex.SignedOrder) bool {
		out = append(out, h)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// honestSync runs a fresh requester host with the real subprotocols
// against provider until it has synced, checks that it got exactly want,
// closes the host and returns how long the sync took.
func honestSync(t testing.TB, provider host.Host, want []common.Hash) time.Duration {
	t.Helper()
	h := testnet.NewHost(t)
	defer h.Close()
	testnet.Connect(t, h, provider)
	store := orderstore.NewMemory()
	node := ordersync.NewHostNode(h)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	requester := ordersync.New(ctx, node, realSubprotocols(store, node),
		ordersync.WithLogger(testLogger(t)),
		ordersync.WithBackoff(10*time.Millisecond, 200*time.Millisecond))
	start := time.Now()
	if err := requester.GetOrders(ctx, 1); err != nil {
		t.Fatalf("honest requester: GetOrders: %v (stats %+v)", err, requester.Stats())
	}
	took := time.Since(start)
	if got := storeHashes(t, store); !slices.Equal(got, want) {
		t.Fatalf("honest requester holds %d orders, want exactly the provider's %d", len(got), len(want))
	}
	return took
}

// heapSampler records the peak of HeapInuse while an attack runs.
type heapSampler struct {
	stop chan struct{}
	peak chan uint64
}

func sampleHeap() *heapSampler {
	hs := &heapSampler{stop: make(chan struct{}), peak: make(chan uint64)}
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		var peak uint64
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-hs.stop:
				hs.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return hs
}

func (hs *heapSampler) finish() uint64 {
	close(hs.stop)
	return <-hs.peak
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
