package ordersync

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/internal/wire/framing"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/testing/leakcheck"
	"github.com/ordersync/ordersync/testing/testnet"
)

// hangGuard bounds how long a test waits for something that should happen
// at once; it only fires when the code under test is broken.
const hangGuard = 10 * time.Second

func TestGetOrdersCancelReturnsPromptlyLeavingNothing(t *testing.T) {
	hosts := testnet.New(t, 3)
	requested := make(chan struct{}, 2)
	providerCtx, stopProviders := context.WithCancel(context.Background())
	defer stopProviders()
	for i, h := range hosts[1:] {
		silent := newPager("/test/a", orders(int64(40+i), 2), 10)
		// Answers nothing until the provider stops.
		silent.block = func(ctx context.Context, _ int) error {
			requested <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		New(providerCtx, NewHostNode(h), []Subprotocol{silent}, testOptions(t, 1)...)
	}
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1000)...)

	leaks := leakcheck.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- requester.GetOrders(ctx, 2) }()
	<-requested
	<-requested
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(hangGuard):
		t.Fatal("GetOrders did not return after its context ended")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrNoOrders) {
		t.Fatalf("GetOrders: %v, want context.Canceled and ErrNoOrders", err)
	}
	stopProviders()
	// Nothing of either side is left: not the requester's syncs, not the
	// providers' handlers.
	leaks.Verify(t)
}

func TestCanceledAfterSomeOrdersIsNotErrNoOrders(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(41, 2), 10)}, testOptions(t, 1)...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	waits := &recordedWaits{onAdd: func(int) { cancel() }}
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1000), withTimer(waits.after))...)
	err := requester.GetOrders(ctx, 2) // only one peer: waits, then is canceled
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNoOrders) {
		t.Fatalf("GetOrders: %v, want context.Canceled without ErrNoOrders", err)
	}
}

// Past the shared limiter's burst, a new stream waits its turn unless its
// peer already has a request waiting: that one is reset at once, while
// another peer's new stream still gets in line.
func TestRateLimitPastBurst(t *testing.T) {
	hosts := testnet.New(t, 3)
	provider := newService(t, hosts[2], []Subprotocol{newPager("/test/a", orders(42, 1), 10)},
		append(testOptions(t, 1), WithRateLimit(rate.Every(time.Hour), 2))...)
	ask := func(from int) *framing.Reader {
		s := rawStream(t, hosts[from], hosts[2].ID())
		if _, err := io.WriteString(s, `{"type":"Request","subprotocols":["/test/a"],"metadata":null}`); err != nil {
			t.Fatal(err)
		}
		r, _ := framing.NewReader(s, 1<<20, nil)
		return r
	}
	for i := range 2 {
		r := ask(0)
		if _, err := r.ReadMessage(); err != nil {
			t.Fatalf("stream %d, within the burst: %v", i, err)
		}
	}
	// Past the burst: let in, to wait.
	ask(0)
	waitForWaiters(t, provider.limiter, hosts[0].ID())
	// A second stream of the waiting peer is reset unanswered.
	if _, err := ask(0).ReadMessage(); err == nil {
		t.Fatal("a second stream of a waiting peer was answered")
	}
	if n := provider.Stats().StreamsRejected; n != 1 {
		t.Errorf("%d streams rejected, want 1", n)
	}
	// Another peer is not turned away: it waits its turn, after the first.
	ask(1)
	waitForWaiters(t, provider.limiter, hosts[0].ID(), hosts[1].ID())
	if n := provider.Stats().StreamsRejected; n != 1 {
		t.Errorf("%d streams rejected after another peer asked, want still 1", n)
	}
}

// waitForWaiters waits until the peers waiting for a token at f are
// exactly want, in turn order, and fails the test if that does not happen
// within a minute.
func waitForWaiters(t *testing.T, f *fairLimiter, want ...peer.ID) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		f.mu.Lock()
		got := slices.Clone(f.turns)
		f.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("peers waiting %v, want %v", got, want)
		}
	}
}

func TestPeerRateLimitLeavesOthersServed(t *testing.T) {
	hosts := testnet.New(t, 3)
	provider := newService(t, hosts[2], []Subprotocol{newPager("/test/a", orders(43, 1), 10)},
		append(testOptions(t, 1), WithPeerRateLimit(rate.Every(time.Hour), 1))...)
	ask := func(from int) error {
		s := rawStream(t, hosts[from], hosts[2].ID())
		if _, err := io.WriteString(s, `{"type":"Request","subprotocols":["/test/a"],"metadata":null}`); err != nil {
			return err
		}
		r, _ := framing.NewReader(s, 1<<20, nil)
		_, err := r.ReadMessage()
		return err
	}
	if err := ask(0); err != nil {
		t.Fatalf("peer 0, first stream: %v", err)
	}
	if err := ask(0); err == nil {
		t.Fatal("peer 0, second stream: answered past its share")
	}
	if err := ask(1); err != nil {
		t.Fatalf("peer 1, first stream: %v", err)
	}
	if n := provider.Stats().StreamsRejected; n != 1 {
		t.Errorf("%d streams rejected, want 1", n)
	}
}

func TestMaxStreamsResetsExtraStreams(t *testing.T) {
	hosts := testnet.New(t, 2)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	p := newPager("/test/a", orders(44, 1), 10)
	p.block = func(ctx context.Context, _ int) error {
		entered <- struct{}{}
		<-release
		return nil
	}
	provider := newService(t, hosts[1], []Subprotocol{p}, append(testOptions(t, 1), WithMaxStreams(1))...)
	defer close(release)
	first := rawStream(t, hosts[0], hosts[1].ID())
	if _, err := io.WriteString(first, `{"type":"Request","subprotocols":["/test/a"],"metadata":null}`); err != nil {
		t.Fatal(err)
	}
	<-entered // the one stream slot is taken
	second := rawStream(t, hosts[0], hosts[1].ID())
	_, _ = io.WriteString(second, `{"type":"Request","subprotocols":["/test/a"],"metadata":null}`)
	if _, err := io.ReadAll(second); !errors.Is(err, network.ErrReset) {
		t.Fatalf("second stream: %v, want a reset", err)
	}
	if n := provider.Stats().StreamsRejected; n != 1 {
		t.Errorf("%d streams rejected, want 1", n)
	}
}

func TestSilentProviderTimesOut(t *testing.T) {
	hosts := testnet.New(t, 2)
	// A provider that reads the request and never answers.
	hosts[1].SetStreamHandler(ID, func(s network.Stream) {
		defer s.Reset()
		_, _ = io.Copy(io.Discard, s)
	})
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), WithMessageTimeout(100*time.Millisecond))...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	last := requester.Stats().Providers[hosts[1].ID()].LastError
	if !strings.Contains(last, "deadline") && !strings.Contains(last, "timeout") {
		t.Errorf("last error %q, want a timeout", last)
	}
	if v, _ := tag(hosts[0], hosts[1].ID(), peerscore.MessageTimeout); v != peerscore.MessageTimeoutDelta {
		t.Errorf("message-timeout tag %d, want %d", v, peerscore.MessageTimeoutDelta)
	}
	// A timed-out sync is resumable only once it has a subprotocol; this
	// one never got a response.
	if _, ok := requester.resume.take(hosts[1].ID()); ok {
		t.Error("resume point kept for a sync that never started")
	}
}

func TestSilentRequesterTimesOut(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), WithMessageTimeout(100*time.Millisecond))...)
	s := rawStream(t, hosts[0], hosts[1].ID())
	// Say nothing: the provider gives up on the stream.
	if _, err := io.ReadAll(s); !errors.Is(err, network.ErrReset) {
		t.Fatalf("silent stream: %v, want a reset by the provider", err)
	}
	if v, _ := tag(hosts[1], hosts[0].ID(), peerscore.MessageTimeout); v != peerscore.MessageTimeoutDelta {
		t.Errorf("message-timeout tag %d, want %d", v, peerscore.MessageTimeoutDelta)
	}
}

// A new stream that sends nothing is cut off after the first-request
// timeout, long before the message timeout: it only holds a slot.
func TestSilentNewStreamCutOffBeforeMessageTimeout(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), WithMessageTimeout(time.Hour), WithFirstRequestTimeout(50*time.Millisecond))...)
	s := rawStream(t, hosts[0], hosts[1].ID())
	// Our own deadline only keeps a failing test from hanging.
	if err := s.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(s); !errors.Is(err, network.ErrReset) {
		t.Fatalf("silent new stream: %v, want a reset by the provider", err)
	}
}

func TestOversizeRequestIsCutOff(t *testing.T) {
	hosts := testnet.New(t, 2)
	const limit = 1024
	provider := newService(t, hosts[1], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), WithMaxRequestSize(limit))...)
	s := rawStream(t, hosts[0], hosts[1].ID())
	chunk := []byte(strings.Repeat("x", 32<<10))
	if _, err := io.WriteString(s, `{"type":"Request","metadata":"`); err != nil {
		t.Fatal(err)
	}
	var sent int
	var err error
	for sent < 64<<20 && err == nil {
		var n int
		n, err = s.Write(chunk)
		sent += n
	}
	if err == nil {
		t.Fatalf("wrote %d bytes of one request and the provider still takes them", sent)
	}
	if v, _ := tag(hosts[1], hosts[0].ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("invalid-message tag %d, want %d", v, peerscore.InvalidMessageDelta)
	}
	if read := provider.Stats().BytesRead; read > limit+4096 {
		t.Errorf("provider read %d bytes of a request bounded at %d", read, limit)
	}
}

func TestOversizeResponseIsCutOff(t *testing.T) {
	hosts := testnet.New(t, 2)
	// A provider that answers with an endless response.
	wrote := make(chan error, 1)
	hosts[1].SetStreamHandler(ID, func(s network.Stream) {
		defer s.Reset()
		chunk := []byte(strings.Repeat("x", 32<<10))
		_, err := io.WriteString(s, `{"type":"Response","subprotocol":"/test/a","metadata":"`)
		for sent := 0; err == nil && sent < 64<<20; sent += len(chunk) {
			_, err = s.Write(chunk)
		}
		wrote <- err
	})
	const limit = 8 << 10
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), WithMaxResponseSize(limit))...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	if err := <-wrote; err == nil {
		t.Fatal("the endless provider wrote 64 MiB unhindered")
	}
	st := requester.Stats()
	if got := st.Providers[hosts[1].ID()].BytesReceived; got > limit+4096 {
		t.Errorf("requester read %d bytes of a response bounded at %d", got, limit)
	}
	if ps := st.Providers[hosts[1].ID()]; !errors.Is(ps.Err, ErrMessageTooLarge) || !strings.Contains(ps.LastError, ErrMessageTooLarge.Error()) {
		t.Errorf("last error %q (%v), want %q", ps.LastError, ps.Err, ErrMessageTooLarge)
	}
	if v, _ := tag(hosts[0], hosts[1].ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("invalid-message tag %d, want %d", v, peerscore.InvalidMessageDelta)
	}
}

func TestProviderCutOffPastMaxPages(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(45, 10), 1)}, testOptions(t, 1)...)
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 1)},
		append(testOptions(t, 1), WithMaxPagesPerSync(3))...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	ps := requester.Stats().Providers[hosts[1].ID()]
	if ps.Pages != 3 || !strings.Contains(ps.LastError, ErrTooManyPages.Error()) {
		t.Errorf("provider stats %+v, want 3 pages and %q", ps, ErrTooManyPages)
	}
	if v, _ := tag(hosts[0], hosts[1].ID(), peerscore.TooLongSync); v != peerscore.TooLongSyncDelta {
		t.Errorf("too-long-sync tag %d, want %d", v, peerscore.TooLongSyncDelta)
	}
}

// A provider holding exactly what a sync may take is synced in full: the
// complete response after the last full page passes the bounds.
func TestSyncAtExactlyTheBoundsCompletes(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(46, 6), 2)}, testOptions(t, 1)...)
	mine := newPager("/test/a", nil, 2)
	requester := newService(t, hosts[0], []Subprotocol{mine},
		append(testOptions(t, 1), WithMaxPagesPerSync(3), WithMaxOrdersPerSync(6))...)
	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got := mine.receivedCount(); got != 6 {
		t.Errorf("received %d orders, want all 6", got)
	}
	if ps := requester.Stats().Providers[hosts[1].ID()]; ps.Pages != 4 || ps.LastError != "" {
		t.Errorf("provider stats %+v, want 4 pages (the last one complete) and no error", ps)
	}
	if v, ok := tag(hosts[0], hosts[1].ID(), peerscore.TooLongSync); ok {
		t.Errorf("too-long-sync tag %d on a provider within the bounds", v)
	}
}

// One order past the bound cuts the provider off before the page that
// carries it reaches the subprotocol.
func TestProviderCutOffPastMaxOrders(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(47, 7), 2)}, testOptions(t, 1)...)
	mine := newPager("/test/a", nil, 2)
	requester := newService(t, hosts[0], []Subprotocol{mine},
		append(testOptions(t, 1), WithMaxOrdersPerSync(6))...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	if got := mine.receivedCount(); got != 6 {
		t.Errorf("received %d orders, want the 6 before the bound", got)
	}
	ps := requester.Stats().Providers[hosts[1].ID()]
	if !strings.Contains(ps.LastError, ErrTooManyOrders.Error()) {
		t.Errorf("provider stats %+v, want %q", ps, ErrTooManyOrders)
	}
	if v, _ := tag(hosts[0], hosts[1].ID(), peerscore.TooLongSync); v != peerscore.TooLongSyncDelta {
		t.Errorf("too-long-sync tag %d, want %d", v, peerscore.TooLongSyncDelta)
	}
}

func TestInvalidResponseEndsSync(t *testing.T) {
	hosts := testnet.New(t, 2)
	hosts[1].SetStreamHandler(ID, func(s network.Stream) {
		defer s.Close()
		r, _ := framing.NewReader(s, 1<<20, nil)
		if _, err := r.ReadMessage(); err != nil {
			return
		}
		_, _ = io.WriteString(s, `{"type":"Response","subprotocol":"/test/other","orders":[],"complete":false,"metadata":{"next":0}}`+"\n")
	})
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	if v, _ := tag(hosts[0], hosts[1].ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("invalid-message tag %d, want %d", v, peerscore.InvalidMessageDelta)
	}
	if last := requester.Stats().Providers[hosts[1].ID()].LastError; !strings.Contains(last, ErrInvalidMessage.Error()) {
		t.Errorf("last error %q, want %q", last, ErrInvalidMessage)
	}
}

func TestPeerWithoutOrdersyncIsNotScored(t *testing.T) {
	hosts := testnet.New(t, 2)
	// The peer is connected but does not speak ordersync: it is no
	// provider, and not doing what it never offered is no misbehaviour
	// (see also hostnode_test.go).
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	if v, ok := tag(hosts[0], hosts[1].ID(), peerscore.UnexpectedDisconnect); ok {
		t.Errorf("unexpected-disconnect tag %d, want none", v)
	}
}

func TestMaxStreamsPerPeerLeavesOthersServed(t *testing.T) {
	hosts := testnet.New(t, 3)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	p := newPager("/test/a", orders(46, 1), 10)
	var once atomic.Bool
	p.block = func(ctx context.Context, _ int) error {
		if once.CompareAndSwap(false, true) {
			entered <- struct{}{}
			<-release
		}
		return nil
	}
	provider := newService(t, hosts[2], []Subprotocol{p}, append(testOptions(t, 1), WithMaxStreamsPerPeer(1))...)
	defer close(release)
	const req = `{"type":"Request","subprotocols":["/test/a"],"metadata":null}`
	first := rawStream(t, hosts[0], hosts[2].ID())
	if _, err := io.WriteString(first, req); err != nil {
		t.Fatal(err)
	}
	<-entered // peer 0's one slot is taken
	second := rawStream(t, hosts[0], hosts[2].ID())
	_, _ = io.WriteString(second, req)
	if _, err := io.ReadAll(second); !errors.Is(err, network.ErrReset) {
		t.Fatalf("peer 0's second stream: %v, want a reset", err)
	}
	other := rawStream(t, hosts[1], hosts[2].ID())
	if _, err := io.WriteString(other, req); err != nil {
		t.Fatal(err)
	}
	r, _ := framing.NewReader(other, 1<<20, nil)
	if _, err := r.ReadMessage(); err != nil {
		t.Fatalf("peer 1's stream: %v", err)
	}
	if n := provider.Stats().StreamsRejected; n != 1 {
		t.Errorf("%d streams rejected, want 1", n)
	}
}

// TestLargeResponseFitsResourceManager reads a 12 MiB response through the
// default resource manager, whose stream memory limit is 16 MiB.
func TestLargeResponseFitsResourceManager(t *testing.T) {
	hosts := testnet.New(t, 2)
	hosts[1].SetStreamHandler(ID, func(s network.Stream) {
		defer s.Close()
		r, _ := framing.NewReader(s, 1<<20, nil)
		if _, err := r.ReadMessage(); err != nil {
			return
		}
		pad := strings.Repeat("x", 12<<20)
		_, _ = io.WriteString(s, `{"type":"Response","subprotocol":"/test/a","orders":[],"complete":true,"metadata":{"next":0,"pad":"`+pad+`"}}`+"\n")
	})
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	if err := requester.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	ps := requester.Stats().Providers[hosts[1].ID()]
	if ps.LastError != ErrNoOrdersFromPeer.Error() || ps.Pages != 1 {
		t.Fatalf("provider stats %+v; want the page read and %q", ps, ErrNoOrdersFromPeer)
	}
}
