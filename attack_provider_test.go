// Attacks on a provider: hostile requesters that send garbage, floods, idle
// or slow streams and costly filters.
package ordersync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/attacktest"
	"github.com/ordersync/ordersync/testing/leakcheck"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// newAttackerHost starts a host without resource limits of its own: an
// attacker does not limit itself, so only the provider's limits count.
func newAttackerHost(t testing.TB) host.Host {
	// yamux's own window: what an attacker's streams buffer is its own
	// business, but this process's heap, which the attacks bound, holds it.
	return testnet.NewHostWith(t, p2phost.WithStreamWindow(0),
		p2phost.WithLibp2pOptions(libp2p.ResourceManager(&network.NullResourceManager{})))
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

// expectNoResponse checks that the provider ends the stream without
// writing anything.
func expectNoResponse(t testing.TB, s network.Stream) {
	t.Helper()
	if err := attacktest.NoResponse(s, "provider"); err != nil {
		t.Error(err)
	}
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
		written, err := attacktest.WriteUntilError(s, []byte(prefix), chunk, 256<<20)
		if err == nil {
			t.Errorf("attacker wrote %d bytes and the provider never cut the stream off", written)
		}
		expectNoResponse(t, s)
		return 1, fmt.Sprintf("attacker wrote %d B", written)
	}
}

// attacks are TestAttack's cases, one hostile requester each.
var attacks = []attack{
	{name: "unterminated-256MiB", score: scoreLowered,
		run: flood(`{"type":"Request","subprotocols":["`, bytes.Repeat([]byte("a"), 64<<10))},
	{name: "random-bytes", score: scoreLowered,
		run: flood("", attacktest.RandomBytes(1, 1<<20))},
	{name: "random-bytes-in-object", score: scoreLowered,
		run: flood("{", attacktest.RandomBytes(2, 1<<20))},
	{name: "4MiB-of-[", score: scoreLowered,
		run: flood("", bytes.Repeat([]byte("["), 4<<20))},
	{name: "4MiB-of-[-in-object", score: scoreLowered,
		run: flood(`{"metadata":`, bytes.Repeat([]byte("["), 4<<20))},
	{name: "endless-whitespace", score: scoreLowered,
		run: flood("", bytes.Repeat([]byte(" \n"), 32<<10))},
	{name: "wrong-type", score: scoreLowered,
		run: oneRequest(strings.Replace(attacktest.FirstRequestV1, `"Request"`, `"Response"`, 1))},
	{name: "type-missing", score: scoreLowered,
		run: oneRequest(strings.Replace(attacktest.FirstRequestV1, `"type":"Request",`, ``, 1))},
	{name: "unknown-subprotocol", score: scoreNegotiation,
		run: oneRequest(`{"type":"Request","subprotocols":["/pagination-with-filter/version/9"],"metadata":{"metadata":[null]}}` + "\n")},
	{name: "metadata-string", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestBoth(`"give me everything"`))},
	{name: "metadata-array", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestBoth(`[1,2,3]`))},
	{name: "metadata-entry-string", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestBoth(`{"metadata":["x","y"]}`))},
	{name: "filter-does-not-compile", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestWithFilter(attacktest.FilterJSON(`{"type":12}`), attacktest.ZeroHash))},
	{name: "filter-not-json", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestWithFilter(attacktest.FilterJSON(`{"type":`), attacktest.ZeroHash))},
	{name: "filter-self-reference", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestWithFilter(attacktest.FilterJSON(`{"$ref":"#"}`), attacktest.ZeroHash))},
	{name: "hash-wrong-length", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestWithFilter("null", "0x1234"))},
	{name: "hash-not-hex", score: scoreLowered,
		run: oneRequest(attacktest.FirstRequestWithFilter("null", "0x"+strings.Repeat("zz", 32)))},
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
	if _, err := io.WriteString(s, attacktest.FirstRequestWithFilter(attacktest.FilterJSON(schema), attacktest.ZeroHash)); err != nil {
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
	_, err := io.WriteString(s, attacktest.FirstRequestV1)
	for err == nil {
		sent++
		_, err = io.WriteString(s, attacktest.LaterRequestV1)
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
	if _, err := io.WriteString(s, attacktest.FirstRequestV1+attacktest.LaterRequestV1+attacktest.LaterRequestV1); err != nil {
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
	msg := []byte(attacktest.FirstRequestV1)
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
				_, err = io.WriteString(s, attacktest.FirstRequestV1+attacktest.LaterRequestV1)
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
