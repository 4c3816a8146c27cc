package ordersync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/leakcheck"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/testnet"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/zeroex"
)

// The attacked provider's settings: the Service's defaults, except a short
// message timeout so that attacks that stall end in well under a second.
const (
	attackOrderCount = 2000
	attackTimeout    = 750 * time.Millisecond
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

// newAttackerHost starts a host without resource limits of its own: an
// attacker does not limit itself, so only the provider's limits count.
func newAttackerHost(t testing.TB) host.Host {
	return testnet.NewHost(t, libp2p.ResourceManager(&network.NullResourceManager{}))
}

// attackEnv is what an attack works with.
type attackEnv struct {
	target   *target
	attacker host.Host
}

// open opens a raw ordersync stream from the attacker and sends the
// protocol handshake, so that the provider's Service takes the stream even
// if the attacker never writes a byte of its own.
func (e *attackEnv) open(t testing.TB) network.Stream {
	t.Helper()
	s, err := e.tryOpen()
	if err != nil {
		t.Fatalf("attacker: %v", err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	return s
}

// tryOpen is open for any goroutine: the caller resets the stream.
func (e *attackEnv) tryOpen() (network.Stream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	s, err := e.attacker.NewStream(ctx, e.target.host.ID(), ordersync.ID)
	if err != nil {
		return nil, fmt.Errorf("opening a stream: %w", err)
	}
	_ = s.SetDeadline(time.Now().Add(hangGuard))
	if _, err := s.Write(nil); err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("protocol handshake: %w", err)
	}
	return s, nil
}

// writeUntilError writes chunk again and again, after prefix, until the
// stream fails or limit bytes are written. It returns the bytes written.
func writeUntilError(s network.Stream, prefix, chunk []byte, limit int) (int, error) {
	written, err := s.Write(prefix)
	for err == nil && written < limit {
		var n int
		n, err = s.Write(chunk[:min(len(chunk), limit-written)])
		written += n
	}
	return written, err
}

// expectNoResponse checks that the provider ends the stream without
// writing anything.
func expectNoResponse(t testing.TB, s network.Stream) {
	t.Helper()
	b, err := io.ReadAll(io.LimitReader(s, 1<<20))
	if len(b) > 0 {
		t.Errorf("provider answered %d bytes: %.200q", len(b), b)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("provider kept the stream open for %v", hangGuard)
	}
}

// zeroHash is the first cursor of version 1.
const zeroHash = "0x0000000000000000000000000000000000000000000000000000000000000000"

// Requests an attacker builds on: a valid first request for version 1
// only, and the later requests that follow it on the same stream.
var (
	firstRequestV1 = `{"type":"Request","subprotocols":["` + filteredpagination.Name + `"],"metadata":{"metadata":[{"orderfilter":null,"minOrderHash":"` + zeroHash + `"}]}}` + "\n"
	laterRequestV1 = `{"type":"Request","subprotocols":["` + filteredpagination.Name + `"],"metadata":{"orderfilter":null,"minOrderHash":"` + zeroHash + `"}}` + "\n"
)

// firstRequestBoth is a first request offering both subprotocols with
// metadata, the given JSON, in place of the list of first-request
// metadata.
func firstRequestBoth(metadata string) string {
	return `{"type":"Request","subprotocols":["` + filteredpagination.Name + `","` + ordinal.Name + `"],"metadata":` + metadata + "}\n"
}

// firstRequestWithFilter is a first request whose version-1 entry carries
// the given order filter JSON and cursor.
func firstRequestWithFilter(filter, minOrderHash string) string {
	return firstRequestBoth(`{"metadata":[{"orderfilter":` + filter + `,"minOrderHash":"` + minOrderHash + `"},{"orderfilter":null,"page":0,"snapshotID":""}]}`)
}

// filterJSON is an order filter on the wire with the given custom schema,
// for the chain and exchange of the generated orders.
func filterJSON(schema string) string {
	quoted := strings.ReplaceAll(schema, `"`, `\"`)
	return fmt.Sprintf(`{"customOrderSchema":"%s","chainID":%d,"exchangeAddress":"%s"}`,
		quoted, ordergen.DefaultChainID, strings.ToLower(ordergen.DefaultExchange.Hex()))
}

// scoreWant is how an attack must move the attacker's score on the
// provider.
type scoreWant int

const (
	scoreLowered     scoreWant = iota // invalid-message went down
	scoreNegotiation                  // negotiation-failed set to -5
	scoreValid                        // valid-message set to 5, nothing lowered
	scoreStalled                      // message-timeout (or invalid-message) went down
)

// attack is one hostile behaviour. run returns once the attacker has seen
// its streams end (or, for a peer that never reads, once it gave up), and
// reports how many request messages the provider may have read in full.
type attack struct {
	name  string
	score scoreWant
	run   func(t *testing.T, e *attackEnv) (messages int64, note string)
}

// oneRequest sends msg on a new stream and checks that the provider ends
// the stream without answering.
func oneRequest(msg string) func(t *testing.T, e *attackEnv) (int64, string) {
	return func(t *testing.T, e *attackEnv) (int64, string) {
		s := e.open(t)
		if _, err := io.WriteString(s, msg); err != nil {
			t.Fatalf("attacker: writing: %v", err)
		}
		expectNoResponse(t, s)
		return 1, ""
	}
}

// flood writes prefix, then chunk again and again, until the provider cuts
// the stream off, as it must before 256 MiB are written.
func flood(prefix string, chunk []byte) func(t *testing.T, e *attackEnv) (int64, string) {
	return func(t *testing.T, e *attackEnv) (int64, string) {
		s := e.open(t)
		written, err := writeUntilError(s, []byte(prefix), chunk, 256<<20)
		if err == nil {
			t.Errorf("attacker wrote %d bytes and the provider never cut the stream off", written)
		}
		expectNoResponse(t, s)
		return 1, fmt.Sprintf("attacker wrote %d B", written)
	}
}

// randomBytes is n bytes of a seeded random stream.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// attacks are TestAttack's cases, one hostile requester each.
var attacks = []attack{
	{name: "unterminated-256MiB", score: scoreLowered,
		run: flood(`{"type":"Request","subprotocols":["`, bytes.Repeat([]byte("a"), 64<<10))},
	{name: "random-bytes", score: scoreLowered,
		run: flood("", randomBytes(1, 1<<20))},
	{name: "random-bytes-in-object", score: scoreLowered,
		run: flood("{", randomBytes(2, 1<<20))},
	{name: "4MiB-of-[", score: scoreLowered,
		run: flood("", bytes.Repeat([]byte("["), 4<<20))},
	{name: "4MiB-of-[-in-object", score: scoreLowered,
		run: flood(`{"metadata":`, bytes.Repeat([]byte("["), 4<<20))},
	{name: "endless-whitespace", score: scoreLowered,
		run: flood("", bytes.Repeat([]byte(" \n"), 32<<10))},
	{name: "wrong-type", score: scoreLowered,
		run: oneRequest(strings.Replace(firstRequestV1, `"Request"`, `"Response"`, 1))},
	{name: "type-missing", score: scoreLowered,
		run: oneRequest(strings.Replace(firstRequestV1, `"type":"Request",`, ``, 1))},
	{name: "unknown-subprotocol", score: scoreNegotiation,
		run: oneRequest(`{"type":"Request","subprotocols":["/pagination-with-filter/version/9"],"metadata":{"metadata":[null]}}` + "\n")},
	{name: "metadata-string", score: scoreLowered,
		run: oneRequest(firstRequestBoth(`"give me everything"`))},
	{name: "metadata-array", score: scoreLowered,
		run: oneRequest(firstRequestBoth(`[1,2,3]`))},
	{name: "metadata-entry-string", score: scoreLowered,
		run: oneRequest(firstRequestBoth(`{"metadata":["x","y"]}`))},
	{name: "filter-does-not-compile", score: scoreLowered,
		run: oneRequest(firstRequestWithFilter(filterJSON(`{"type":12}`), zeroHash))},
	{name: "filter-not-json", score: scoreLowered,
		run: oneRequest(firstRequestWithFilter(filterJSON(`{"type":`), zeroHash))},
	{name: "filter-self-reference", score: scoreLowered,
		run: oneRequest(firstRequestWithFilter(filterJSON(`{"$ref":"#"}`), zeroHash))},
	{name: "hash-wrong-length", score: scoreLowered,
		run: oneRequest(firstRequestWithFilter("null", "0x1234"))},
	{name: "hash-not-hex", score: scoreLowered,
		run: oneRequest(firstRequestWithFilter("null", "0x"+strings.Repeat("zz", 32)))},
	{name: "snapshot-not-a-hash", score: scoreLowered,
		run: oneRequest(`{"type":"Request","subprotocols":["` + ordinal.Name + `"],"metadata":{"metadata":[{"orderfilter":null,"page":0,"snapshotID":"not a hash"}]}}` + "\n")},
	{name: "filter-costly-no-match", score: scoreValid, run: costlyFilter},
	{name: "300-idle-streams", score: scoreStalled, run: idleStreams(300)},
	{name: "request-flood", score: scoreValid, run: requestFlood},
	{name: "slow-reader", score: scoreValid, run: slowReader},
	{name: "slow-writer", score: scoreStalled, run: slowWriter},
}

// idleStreams opens n streams at once and leaves them idle: the provider
// must turn away what it cannot serve and time out the rest.
func idleStreams(n int) func(t *testing.T, e *attackEnv) (int64, string) {
	return func(t *testing.T, e *attackEnv) (int64, string) {
		streams := make([]network.Stream, n)
		var wg sync.WaitGroup
		var openErrs atomic.Int64
		var firstErr atomic.Value
		for i := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := e.tryOpen()
				if err != nil {
					openErrs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					return
				}
				streams[i] = s
			}()
		}
		wg.Wait()
		// The streams all started together, so reading them one after
		// another waits about one message timeout in all.
		ended := 0
		for _, s := range streams {
			if s == nil {
				continue
			}
			expectNoResponse(t, s)
			_ = s.Reset()
			ended++
		}
		if ended == 0 {
			t.Fatalf("none of %d streams opened (%d errors)", n, openErrs.Load())
		}
		return 0, fmt.Sprintf("%d streams opened, %d failed to open (%v)", ended, openErrs.Load(), firstErr.Load())
	}
}

// costlyFilter sends a valid request whose filter costs the provider as
// much as its evaluation budget allows on every order, and matches none:
// the provider scans its whole store for nothing. The note says what one
// such request cost.
func costlyFilter(t *testing.T, e *attackEnv) (int64, string) {
	// Keywords beside $ref do not count in draft-07: hence the allOf.
	branch := `{"allOf":[{"$ref":"/signedOrder"},{"required":["noSuchField"]}]}`
	schema := `{"anyOf":[` + strings.TrimSuffix(strings.Repeat(branch+",", 24), ",") + `]}`
	s := e.open(t)
	start := time.Now()
	if _, err := io.WriteString(s, firstRequestWithFilter(filterJSON(schema), zeroHash)); err != nil {
		t.Fatalf("attacker: writing: %v", err)
	}
	resp, err := bufio.NewReader(s).ReadBytes('\n')
	took := time.Since(start)
	if err != nil {
		// Refusing the filter (or the scan) is as good an answer.
		return 1, fmt.Sprintf("provider refused after %v: %v", took.Round(time.Millisecond), err)
	}
	if !bytes.Contains(resp, []byte(`"orders":null`)) && !bytes.Contains(resp, []byte(`"orders":[]`)) {
		t.Errorf("provider answered orders to a filter that matches none: %.200s", resp)
	}
	return 1, fmt.Sprintf("one request scanned %d orders in %v (%v an order)", attackOrderCount, took.Round(time.Millisecond), (took / attackOrderCount).Round(time.Microsecond))
}

// requestFlood pipelines valid requests on one stream as fast as the
// stream takes them for a second, reading the responses as they come.
func requestFlood(t *testing.T, e *attackEnv) (int64, string) {
	s := e.open(t)
	var responses atomic.Int64
	drained := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(s, 64<<10)
		for {
			_, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil {
				drained <- err
				return
			}
			responses.Add(1)
		}
	}()
	stop := time.Now().Add(time.Second)
	_ = s.SetWriteDeadline(stop)
	sent := 0
	_, err := io.WriteString(s, firstRequestV1)
	for err == nil {
		sent++
		_, err = io.WriteString(s, laterRequestV1)
	}
	_ = s.Reset()
	<-drained
	if responses.Load() == 0 {
		t.Error("provider answered none of the flood's requests")
	}
	// Every response answers one request read in full, and the provider
	// may have read one more whole request that it did not answer yet.
	return responses.Load() + 1, fmt.Sprintf("%d requests sent, %d answered", sent, responses.Load())
}

// slowReader asks for pages and never reads them: the provider must give up
// writing after its message timeout.
func slowReader(t *testing.T, e *attackEnv) (int64, string) {
	before := e.target.node.entered.Load()
	s := e.open(t)
	if _, err := io.WriteString(s, firstRequestV1+laterRequestV1+laterRequestV1); err != nil {
		t.Fatalf("attacker: writing: %v", err)
	}
	// A page of 500 orders is larger than a stream's first flow-control
	// window, so the provider's write blocks until its deadline.
	e.target.node.waitDone(t, before+1)
	_ = s.Reset()
	return 3, ""
}

// slowWriter trickles a valid request one byte every 20 ms: far slower
// than the message timeout allows.
func slowWriter(t *testing.T, e *attackEnv) (int64, string) {
	s := e.open(t)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	msg := []byte(firstRequestV1)
	sent := 0
	for ; sent < len(msg); sent++ {
		<-tick.C
		if _, err := s.Write(msg[sent : sent+1]); err != nil {
			break
		}
	}
	if sent == len(msg) {
		t.Fatalf("provider waited %v for the whole request, past its message timeout %v", time.Duration(len(msg))*20*time.Millisecond, attackTimeout)
	}
	expectNoResponse(t, s)
	return 1, fmt.Sprintf("%d of %d bytes trickled", sent, len(msg))
}

// tagValue reads the attacker's tag on the provider: its value and whether
// it is set.
func tagValue(e *attackEnv, tag string) (int, bool) {
	info := e.target.host.ConnManager().GetTagInfo(e.attacker.ID())
	if info == nil {
		return 0, false
	}
	v, ok := info.Tags[tag]
	return v, ok
}

// checkScore checks the attacker's score on the provider.
func checkScore(t *testing.T, e *attackEnv, want scoreWant, invalidBefore int) {
	t.Helper()
	invalid, _ := tagValue(e, peerscore.InvalidMessage)
	switch want {
	case scoreLowered:
		if invalid >= invalidBefore {
			t.Errorf("attacker's %s tag is %d, was %d: not lowered", peerscore.InvalidMessage, invalid, invalidBefore)
		}
	case scoreNegotiation:
		if v, ok := tagValue(e, peerscore.NegotiationFailed); !ok || v != -5 {
			t.Errorf("attacker's %s tag is %d (set %v), want -5", peerscore.NegotiationFailed, v, ok)
		}
	case scoreValid:
		if v, _ := tagValue(e, peerscore.ValidMessage); v != 5 {
			t.Errorf("attacker's %s tag is %d, want 5", peerscore.ValidMessage, v)
		}
		if invalid != invalidBefore {
			t.Errorf("attacker's %s tag moved from %d to %d for valid requests", peerscore.InvalidMessage, invalidBefore, invalid)
		}
	case scoreStalled:
		// The package doc promises it: "a peer that ... stalls has its
		// stream closed and its score lowered".
		if timeout, _ := tagValue(e, peerscore.MessageTimeout); timeout >= 0 && invalid >= invalidBefore {
			t.Errorf("a peer that stalls until the message timeout keeps its score (%s %d, %s %d, was %d)",
				peerscore.MessageTimeout, timeout, peerscore.InvalidMessage, invalid, invalidBefore)
		}
	}
}

// TestAttack runs each attack against one serving provider, each from a
// new attacker identity, checking after each that the provider read a
// bounded number of bytes, kept its heap bounded, left no goroutine behind,
// scored the attacker, and still serves an honest requester every order.
//
// The shared rate limit is off so that every attack reaches the parser
// instead of being turned away because earlier ones (and the honest syncs)
// used the shared tokens; the per-peer limits stay at their defaults.
func TestAttack(t *testing.T) {
	tg := startTarget(t, attackOrders(), ordersync.WithRateLimit(rate.Inf, 0))
	// A first honest sync warms up what a provider builds on first use, so
	// that the leak checks see only what each attack leaves.
	t.Logf("ATTACK-RESULT %-24s %12s %12s %12s %10s %12s  %s", "attack", "read(B)", "stats(B)", "bound(B)", "heap+(MiB)", "honest", "note")
	t.Logf("ATTACK-RESULT %-24s %12s %12s %12s %10s %12v", "(none: baseline)", "-", "-", "-", "-", honestSync(t, tg.host, tg.want).Round(time.Millisecond))

	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			// Everything the subtest starts, the attacker's host among
			// them, it also stops, so that the leak check covers it all.
			leaks := leakcheck.Start(t)
			env := &attackEnv{target: tg, attacker: newAttackerHost(t)}
			testnet.Connect(t, env.attacker, tg.host)
			invalidBefore, _ := tagValue(env, peerscore.InvalidMessage)
			statsBefore := tg.service.Stats()
			readBefore := tg.node.bytesRead.Load()
			enteredBefore := tg.node.entered.Load()
			base := heapInuse()
			sampler := sampleHeap()

			messages, note := a.run(t, env)
			tg.node.waitDone(t, enteredBefore+1)
			peak := sampler.finish()

			stats := tg.service.Stats()
			statsRead := stats.BytesRead - statsBefore.BytesRead
			read := tg.node.bytesRead.Load() - readBefore
			streams := tg.node.entered.Load() - enteredBefore
			rejected := stats.StreamsRejected - statsBefore.StreamsRejected
			if a.name != "300-idle-streams" && rejected != 0 {
				t.Errorf("the provider turned %d of the attack's streams away before reading them: the attack did not land", rejected)
			}
			// The provider takes at most maxRequest bytes of each request
			// it reads, and may buffer one read ahead on each stream.
			bound := max(messages, 1) * attackMaxRequest
			readBound := bound + streams*readBuffer
			var grew uint64
			if peak > base {
				grew = peak - base
			}
			if grew > heapBound {
				t.Errorf("heap grew by %d MiB during the attack, bound %d MiB", grew>>20, heapBound>>20)
			}
			checkScore(t, env, a.score, invalidBefore)
			_ = env.attacker.Close() // after the score check: tags go with the connection

			honest := honestSync(t, tg.host, tg.want)
			leaks.Verify(t)
			t.Logf("ATTACK-RESULT %-24s %12d %12d %12d %10.1f %12v  %s (streams %d, rejected %d, served %d)",
				a.name, read, statsRead, bound, float64(grew)/(1<<20), honest.Round(time.Millisecond), note,
				streams, rejected, stats.RequestsServed-statsBefore.RequestsServed)

			if statsRead > bound || read > readBound {
				t.Errorf("provider read %d bytes (Stats: %d) before cutting off; bound %d (%d messages of at most %d bytes, %d streams)",
					read, statsRead, bound, messages, attackMaxRequest, streams)
			}
		})
	}
}

// waitActive waits until the Service serves at least n streams at once.
func (n *watchedNode) waitActive(t testing.TB, active int64) {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	for n.active.Load() < active {
		select {
		case <-n.changed:
		case <-guard.C:
			t.Fatalf("provider serves %d streams, not %d, after %v (took %d in all)", n.active.Load(), active, hangGuard, n.entered.Load())
		}
	}
}

// TestAttackIdleStreamsHoldEverySlot is the idle-stream attack by many
// peers (20 attacker hosts, 15 streams each, rate limits off): idle streams
// take every slot of WithMaxStreams, and an honest requester that arrives
// meanwhile is turned away until the message timeout frees them. It must
// still sync, and nothing may leak.
func TestAttackIdleStreamsHoldEverySlot(t *testing.T) {
	// A longer message timeout than the other attacks: every idle stream
	// must still be open when the last one arrives, on a slow machine too.
	const timeout = 2 * time.Second
	const attackers, perAttacker = 20, 15
	tg := startTarget(t, attackOrders(), ordersync.WithMessageTimeout(timeout),
		ordersync.WithRateLimit(rate.Inf, 0), ordersync.WithPeerRateLimit(rate.Inf, 0))
	envs := make([]*attackEnv, attackers)
	for i := range envs {
		envs[i] = &attackEnv{target: tg, attacker: newAttackerHost(t)}
		testnet.Connect(t, envs[i].attacker, tg.host)
	}
	honestSync(t, tg.host, tg.want) // warm-up, as in TestAttack
	leaks := leakcheck.Start(t)

	streams := make([]network.Stream, attackers*perAttacker)
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			streams[i], errs[i] = envs[i%attackers].tryOpen()
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range streams {
			if s != nil {
				_ = s.Reset()
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("attacker: %v", err)
	}
	tg.node.waitActive(t, ordersync.DefaultMaxStreams)
	// A stream being turned away is in the handler for a moment too, so
	// this may count one or two more than the cap.
	held := tg.node.active.Load()
	// The honest requester comes while the idle streams hold every slot.
	honest := honestSync(t, tg.host, tg.want)
	for _, s := range streams {
		expectNoResponse(t, s)
		_ = s.Reset()
	}
	tg.node.waitDone(t, 0)
	leaks.Verify(t)
	st := tg.service.Stats()
	t.Logf("ATTACK-RESULT %-24s %d idle streams from %d peers: the Service held %d slots and rejected %d streams (the honest requester's retries among them); honest requester arriving meanwhile synced in %v (message timeout %v)",
		"idle-streams-many-peers", len(streams), attackers, held, st.StreamsRejected, honest.Round(time.Millisecond), timeout)
	if st.StreamsRejected == 0 {
		t.Error("provider rejected no stream beyond its cap")
	}
}

// Hostile providers: the requester side of the same promise. A provider
// that answers with garbage, too much, nothing, or orders it should not
// send must cost a requester bounded bytes, heap and time, leave no
// goroutine, lower its score, get none of its bad orders stored, and never
// keep the requester from syncing with an honest provider.

// The attacked requester's bounds: small, so that the suite runs quickly.
const (
	hostileMaxResponse = 2 << 20
	hostileMaxPages    = 5
	hostileRounds      = 2
	hostilePerPage     = 10
)

// hostileOrders are valid signed orders a hostile provider may send:
// hostileValid of the honest chain, sorted by hash, and hostileOtherChain
// of another chain, for a requester whose filter wants only the first.
var (
	hostileValid      = sync.OnceValue(func() []hashedOrder { return hashed(ordergen.Generate(ordergen.Options{Seed: 21, Count: 60})) })
	hostileOtherChain = sync.OnceValue(func() []hashedOrder {
		return hashed(ordergen.Generate(ordergen.Options{Seed: 22, Count: hostilePerPage, ChainID: 99, Exchange: ordergen.DefaultExchange}))
	})
)

// hashedOrder is an order with its hash and JSON.
type hashedOrder struct {
	hash common.Hash
	json []byte
}

// hashed returns orders with their hashes and JSON, ascending by hash.
func hashed(orders []*zeroex.SignedOrder) []hashedOrder {
	out := make([]hashedOrder, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			panic(err)
		}
		b, err := json.Marshal(o)
		if err != nil {
			panic(err)
		}
		out[i] = hashedOrder{h, b}
	}
	slices.SortFunc(out, func(a, b hashedOrder) int { return a.hash.Cmp(b.hash) })
	return out
}

// withBadSignature returns o's JSON with its signature's r changed, so that
// it no longer recovers to the maker.
func withBadSignature(o hashedOrder) []byte {
	var m map[string]any
	if err := json.Unmarshal(o.json, &m); err != nil {
		panic(err)
	}
	sig := []byte(m["signature"].(string))
	if sig[10] == '0' { // a hex digit of r
		sig[10] = '1'
	} else {
		sig[10] = '0'
	}
	m["signature"] = string(sig)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// withSignatureType returns o's JSON with its signature's type byte set to
// typ.
func withSignatureType(o hashedOrder, typ byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(o.json, &m); err != nil {
		panic(err)
	}
	sig := m["signature"].(string)
	m["signature"] = fmt.Sprintf("%s%02x", sig[:len(sig)-2], typ)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// v1Response is a version-1 response with the given orders' JSON.
func v1Response(orders [][]byte, complete bool, next common.Hash) []byte {
	b := []byte(`{"type":"Response","subprotocol":"` + filteredpagination.Name + `","orders":[`)
	b = append(b, bytes.Join(orders, []byte(","))...)
	b = fmt.Appendf(b, `],"complete":%t,"metadata":{"nextMinOrderHash":"%s"}}`+"\n", complete, next.Hex())
	return b
}

func jsonOf(orders []hashedOrder) [][]byte {
	out := make([][]byte, len(orders))
	for i, o := range orders {
		out[i] = o.json
	}
	return out
}

// requestCursor reads a request's version-1 cursor: the first request's
// entry for version 1, or a later request's own metadata.
func requestCursor(req []byte) common.Hash {
	var r struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(req, &r)
	var first struct {
		Metadata []struct {
			MinOrderHash string `json:"minOrderHash"`
		} `json:"metadata"`
	}
	if json.Unmarshal(r.Metadata, &first) == nil && len(first.Metadata) > 0 {
		return common.HexToHash(first.Metadata[0].MinOrderHash)
	}
	var later struct {
		MinOrderHash string `json:"minOrderHash"`
	}
	_ = json.Unmarshal(r.Metadata, &later)
	return common.HexToHash(later.MinOrderHash)
}

// hostileScript plays a hostile provider on one stream: it gets each
// request the requester sends (nil when the stream ended) and writes what
// it likes.
type hostileScript func(s network.Stream, nextRequest func() []byte)

// answerEach answers every request with respond(cursor), until the stream
// ends.
func answerEach(respond func(cursor common.Hash) []byte) hostileScript {
	return func(s network.Stream, nextRequest func() []byte) {
		for req := nextRequest(); req != nil; req = nextRequest() {
			if _, err := s.Write(respond(requestCursor(req))); err != nil {
				return
			}
		}
	}
}

// pageAfter is the next hostilePerPage valid orders after cursor.
func pageAfter(cursor common.Hash) []hashedOrder {
	all := hostileValid()
	i, _ := slices.BinarySearchFunc(all, cursor, func(o hashedOrder, h common.Hash) int {
		if o.hash.Cmp(h) <= 0 {
			return -1
		}
		return 1
	})
	return all[i:min(i+hostilePerPage, len(all))]
}

// hostileProvider is a scripted provider case.
type hostileProvider struct {
	name   string
	script hostileScript
	// filter makes the requester keep only orders of the honest chain.
	filter bool
	// stored are the hostile provider's orders the requester may keep:
	// valid ones that passed every check.
	stored []hashedOrder
	// lastError is a piece of the requester's last error for the provider.
	lastError string
	// tag is a score tag the requester must have lowered for the provider.
	tag string
	// untouched is a score tag the requester must not have set.
	untouched string
	// synced says the hostile provider does count as synced: it delivered
	// a valid order and completed.
	synced bool
	// reconcile makes the requester offer /reconcile-riblt/version/1
	// first (attack_reconcile_test.go).
	reconcile bool
}

var hostileProviders = []hostileProvider{
	{name: "oversize-response", lastError: "too large", tag: peerscore.InvalidMessage,
		script: func(s network.Stream, nextRequest func() []byte) {
			if nextRequest() == nil {
				return
			}
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			_, _ = writeUntilError(s, []byte(`{"type":"Response","subprotocol":"`+filteredpagination.Name+`","orders":[{"salt":"`), chunk, 256<<20)
		}},
	{name: "garbage", lastError: "invalid message", tag: peerscore.InvalidMessage,
		script: func(s network.Stream, nextRequest func() []byte) {
			if nextRequest() == nil {
				return
			}
			_, _ = s.Write(randomBytes(3, 1<<20))
		}},
	{name: "silent", lastError: "deadline",
		script: func(s network.Stream, nextRequest func() []byte) {
			if nextRequest() == nil {
				return
			}
			nextRequest() // until the requester gives up
		}},
	{name: "wrong-subprotocol", lastError: "invalid message", tag: peerscore.InvalidMessage,
		script: answerEach(func(common.Hash) []byte {
			return []byte(`{"type":"Response","subprotocol":"/not/offered","orders":[],"complete":true,"metadata":null}` + "\n")
		})},
	{name: "empty-incomplete", lastError: "no orders but did not complete",
		script: answerEach(func(cursor common.Hash) []byte { return v1Response(nil, false, cursor) })},
	{name: "bad-signatures", lastError: ordersync.ErrNoOrdersFromPeer.Error(), tag: peerscore.InvalidOrderSignature,
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			bad := make([][]byte, len(page))
			for i, o := range page {
				bad[i] = withBadSignature(o)
			}
			return v1Response(bad, false, page[len(page)-1].hash)
		})},
	// Wallet signatures need a chain to check: dropped, but not held
	// against the provider (honest ones hold such orders).
	{name: "unverifiable-signatures", lastError: ordersync.ErrNoOrdersFromPeer.Error(), untouched: peerscore.InvalidOrderSignature,
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			wallet := make([][]byte, len(page))
			for i, o := range page {
				wallet[i] = withSignatureType(o, 0x04)
			}
			return v1Response(wallet, false, page[len(page)-1].hash)
		})},
	{name: "filter-mismatch", filter: true, lastError: ordersync.ErrNoOrdersFromPeer.Error(), tag: peerscore.OrderDoesNotMatchFilter,
		script: answerEach(func(cursor common.Hash) []byte {
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			other := hostileOtherChain()
			return v1Response(jsonOf(other), false, other[len(other)-1].hash)
		})},
	{name: "duplicates", stored: hostileValid()[:1], lastError: "", tag: peerscore.InvalidOrder, synced: true,
		script: answerEach(func(cursor common.Hash) []byte {
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			o := hostileValid()[0]
			return v1Response([][]byte{o.json, o.json, o.json}, false, o.hash)
		})},
	{name: "stalled-cursor", stored: hostileValid()[:hostilePerPage], lastError: "did not advance",
		script: answerEach(func(common.Hash) []byte {
			page := pageAfter(common.Hash{})
			return v1Response(jsonOf(page), false, page[len(page)-1].hash)
		})},
	{name: "endless-pages", stored: hostileValid()[:hostileMaxPages*hostilePerPage], lastError: "too many pages",
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			return v1Response(jsonOf(page), false, page[len(page)-1].hash)
		})},
}

// TestAttackHostileProvider syncs a requester with an honest provider and
// a hostile one at once, for each hostile behaviour.
func TestAttackHostileProvider(t *testing.T) {
	// No rate limits on the honest provider: the cases follow one another
	// faster than its default limits refill.
	honest := startTarget(t, attackOrders(), ordersync.WithRateLimit(rate.Inf, 0), ordersync.WithPeerRateLimit(rate.Inf, 0))
	for _, hp := range hostileProviders {
		t.Run(hp.name, func(t *testing.T) {
			leaks := leakcheck.Start(t)
			hostile := testnet.NewHost(t)
			hostile.SetStreamHandler(ordersync.ID, func(s network.Stream) {
				defer s.Reset()
				_ = s.SetDeadline(time.Now().Add(hangGuard))
				br := bufio.NewReader(s)
				hp.script(s, func() []byte {
					line, err := br.ReadBytes('\n')
					if err != nil {
						return nil
					}
					return line
				})
			})
			requesterHost := testnet.NewHost(t)
			testnet.Connect(t, requesterHost, honest.host)
			testnet.Connect(t, requesterHost, hostile)

			store := orderstore.NewMemory()
			node := ordersync.NewHostNode(requesterHost)
			subs := realSubprotocols(store, node)
			if hp.reconcile {
				subs = append([]ordersync.Subprotocol{reconcile.New(store, nil, reconcile.WithPeerScorer(node))}, subs...)
			}
			if hp.filter {
				filter, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
				if err != nil {
					t.Fatal(err)
				}
				opt := pagination.WithPeerScorer(node)
				subs = []ordersync.Subprotocol{filteredpagination.New(store, filter, opt), ordinal.New(store, filter, opt)}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			requester := ordersync.New(ctx, node, subs,
				ordersync.WithLogger(testLogger(t)),
				ordersync.WithMessageTimeout(attackTimeout),
				ordersync.WithMaxResponseSize(hostileMaxResponse),
				ordersync.WithMaxPagesPerSync(hostileMaxPages),
				ordersync.WithBackoffFactory(func() backoff.BackOff {
					return backoff.WithMaxRetries(backoff.NewConstantBackOff(10*time.Millisecond), hostileRounds-1)
				}))

			base := heapInuse()
			sampler := sampleHeap()
			start := time.Now()
			// Two peers: the hostile one never counts as synced, so
			// GetOrders gives up after its rounds.
			err := requester.GetOrders(ctx, 2)
			took := time.Since(start)
			peak := sampler.finish()
			if hp.synced && err != nil {
				t.Errorf("GetOrders: %v, want nil: the provider sent a valid order and completed", err)
			}
			if !hp.synced && !errors.Is(err, ordersync.ErrTooFewPeers) {
				t.Errorf("GetOrders: %v, want ErrTooFewPeers", err)
			}

			st := requester.Stats()
			ps := st.Providers[hostile.ID()]
			if !strings.Contains(ps.LastError, hp.lastError) {
				t.Errorf("last error with the hostile provider %q, want it to say %q", ps.LastError, hp.lastError)
			}
			// Each round reads at most its pages' responses, each within
			// the response bound.
			readBound := int64(hostileRounds * (hostileMaxPages + 1) * hostileMaxResponse)
			if ps.BytesReceived > readBound {
				t.Errorf("requester read %d bytes from the hostile provider, bound %d", ps.BytesReceived, readBound)
			}
			var grew uint64
			if peak > base {
				grew = peak - base
			}
			if grew > heapBound {
				t.Errorf("heap grew by %d MiB, bound %d MiB", grew>>20, heapBound>>20)
			}
			if hp.tag != "" {
				info := requesterHost.ConnManager().GetTagInfo(hostile.ID())
				if info == nil || info.Tags[hp.tag] >= 0 {
					t.Errorf("requester's %s tag for the hostile provider not lowered (tags %v)", hp.tag, info)
				}
			}
			if hp.untouched != "" {
				if info := requesterHost.ConnManager().GetTagInfo(hostile.ID()); info != nil {
					if v, ok := info.Tags[hp.untouched]; ok {
						t.Errorf("requester set the hostile provider's %s tag to %d", hp.untouched, v)
					}
				}
			}
			want := append([]common.Hash(nil), honest.want...)
			for _, o := range hp.stored {
				want = append(want, o.hash)
			}
			slices.SortFunc(want, func(a, b common.Hash) int { return a.Cmp(b) })
			want = slices.Compact(want)
			if got := storeHashes(t, store); !slices.Equal(got, want) {
				t.Errorf("requester holds %d orders, want the honest provider's %d and %d valid ones of the hostile provider", len(got), len(honest.want), len(hp.stored))
			}
			t.Logf("ATTACK-RESULT hostile-provider %-18s read %8d B from it (bound %d), heap +%.1f MiB, GetOrders %v; last error: %.120s",
				hp.name, ps.BytesReceived, readBound, float64(grew)/(1<<20), took.Round(time.Millisecond), ps.LastError)

			cancel()
			leaks.Verify(t, requesterHost, hostile)
		})
	}
}

// TestAttackSlowReadersEverySlot has many peers (rate limits off, as for an
// attacker with many identities) each ask for a page and never read it,
// on every stream the provider serves at once: the pages waiting to be
// written are what the provider holds, and its heap must stay bounded.
func TestAttackSlowReadersEverySlot(t *testing.T) {
	// Long enough that every stream is blocked writing at the same time.
	const timeout = 2 * time.Second
	const perAttacker = 4 // ordersync.DefaultMaxStreamsPerPeer
	attackers := ordersync.DefaultMaxStreams/perAttacker + 1
	tg := startTarget(t, attackOrders(), ordersync.WithMessageTimeout(timeout),
		ordersync.WithRateLimit(rate.Inf, 0), ordersync.WithPeerRateLimit(rate.Inf, 0))
	honestSync(t, tg.host, tg.want) // warm-up, as in TestAttack
	leaks := leakcheck.Start(t)
	envs := make([]*attackEnv, attackers)
	for i := range envs {
		envs[i] = &attackEnv{target: tg, attacker: newAttackerHost(t)}
		testnet.Connect(t, envs[i].attacker, tg.host)
	}
	servedBefore := tg.service.Stats().RequestsServed
	enteredBefore := tg.node.entered.Load()
	base := heapInuse()
	sampler := sampleHeap()

	streams := make([]network.Stream, attackers*perAttacker)
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := envs[i%attackers].tryOpen()
			if err == nil {
				_, err = io.WriteString(s, firstRequestV1+laterRequestV1)
			}
			streams[i], errs[i] = s, err
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range streams {
			if s != nil {
				_ = s.Reset()
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("attacker: %v", err)
	}
	tg.node.waitDone(t, enteredBefore+int64(len(streams)))
	peak := sampler.finish()
	for _, s := range streams {
		_ = s.Reset()
	}
	for _, e := range envs {
		_ = e.attacker.Close()
	}
	st := tg.service.Stats()
	honest := honestSync(t, tg.host, tg.want)
	leaks.Verify(t)

	var grew uint64
	if peak > base {
		grew = peak - base
	}
	// What the provider must hold is a page per stream it serves, and the
	// attackers, in this process too, a flow-control window of it each
	// (yamux's 256 KiB): bound the heap by twice that (the garbage
	// collector lets it reach twice the live data) and a little slack.
	page := pageBytes(t, attackOrders()[:pagination.DefaultPerPage])
	perConfig := uint64(2*ordersync.DefaultMaxStreams*(page+256<<10) + 16<<20)
	t.Logf("ATTACK-RESULT %-24s %d streams from %d peers asked for pages (%d KiB each) and never read: heap +%.1f MiB (%.2f MiB a slot), %d pages written, %d streams rejected; honest sync after %v",
		"slow-readers-every-slot", len(streams), attackers, page>>10, float64(grew)/(1<<20), float64(grew)/(1<<20)/ordersync.DefaultMaxStreams,
		st.RequestsServed-servedBefore, st.StreamsRejected, honest.Round(time.Millisecond))
	if grew > perConfig {
		t.Fatalf("heap grew by %d MiB while slow readers held every slot, over the %d MiB a page and a window a slot explain", grew>>20, perConfig>>20)
	}
	if grew > heapBound {
		t.Fatalf("slow readers on all %d slots grew the heap by %d MiB, over the %d MiB bound: responses must be written in pieces",
			ordersync.DefaultMaxStreams, grew>>20, heapBound>>20)
	}
}

// pageBytes is the size of a response page holding orders.
func pageBytes(t *testing.T, orders []*zeroex.SignedOrder) int {
	t.Helper()
	n := 200 // the envelope and metadata
	for _, o := range orders {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		n += len(b) + 1
	}
	return n
}
