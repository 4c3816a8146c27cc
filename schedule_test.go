package ordersync

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ordersync/ordersync/internal/wire/framing"
	"github.com/ordersync/ordersync/testing/testnet"
)

// droppingStream resets itself instead of making its write number dropAt,
// and records the messages written to it... by the other side: it keeps
// the requests the provider reads.
type droppingStream struct {
	network.Stream
	writes, dropAt int
}

func (s *droppingStream) Write(b []byte) (int, error) {
	s.writes++
	if s.writes == s.dropAt {
		_ = s.Stream.Reset()
		return 0, network.ErrReset
	}
	return s.Stream.Write(b)
}

// recordingStream keeps the bytes the provider reads from a stream.
type recordingStream struct {
	network.Stream
	mu   *sync.Mutex
	read *[]byte
}

func (s *recordingStream) Read(b []byte) (int, error) {
	n, err := s.Stream.Read(b)
	s.mu.Lock()
	*s.read = append(*s.read, b[:n]...)
	s.mu.Unlock()
	return n, err
}

func TestResumeAfterProviderDrops(t *testing.T) {
	hosts := testnet.New(t, 2)
	requesterHost, providerHost := hosts[0], hosts[1]
	provider := newPager("/test/a", orders(5, 25), 10)
	svc := newService(t, providerHost, []Subprotocol{provider}, testOptions(t, 1)...)

	// The first stream resets instead of sending its second response;
	// every stream's requests are recorded.
	var mu sync.Mutex
	var streamsRead [][]byte
	providerHost.SetStreamHandler(ID, func(s network.Stream) {
		mu.Lock()
		streamsRead = append(streamsRead, nil)
		i := len(streamsRead) - 1
		mu.Unlock()
		rec := &recordingStream{Stream: s, mu: &mu, read: &streamsRead[i]}
		if i == 0 {
			svc.HandleStream(&droppingStream{Stream: rec, dropAt: 2})
			return
		}
		svc.HandleStream(rec)
	})

	requesterSub := newPager("/test/a", nil, 10)
	waits := &recordedWaits{}
	opts := append(testOptions(t, 2), withTimer(waits.after))
	requester := newService(t, requesterHost, []Subprotocol{requesterSub}, opts...)
	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got := len(waits.get()); got != 1 {
		t.Errorf("GetOrders waited %d times, want 1 (one failed round)", got)
	}
	// Page 0, then page 10 (lost with the stream), then page 10 again on
	// the resumed stream, and on to the end.
	if got, want := provider.offsetsAsked(), []int{0, 10, 10, 20, 25}; !slices.Equal(got, want) {
		t.Errorf("provider asked for offsets %v, want %v", got, want)
	}
	if got := requesterSub.receivedCount(); got != 25 {
		t.Errorf("requester kept %d orders, want 25", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(streamsRead) != 2 {
		t.Fatalf("provider saw %d streams, want 2", len(streamsRead))
	}
	r, _ := framing.NewReader(bytesReader(streamsRead[1]), 1<<20, nil)
	first, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var req rawRequest
	if err := json.Unmarshal(first, &req); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(req.Subprotocols, []string{"/test/a"}) || string(req.Metadata) != `{"offset":10}` {
		t.Errorf("resumed stream began with %s; want only /test/a and its own metadata at offset 10", first)
	}
	if _, ok := requester.resume.take(providerHost.ID()); ok {
		t.Error("resume point kept after the sync completed")
	}
}

// TestStreamPageLimitContinues checks that a sync goes on at once, on a new
// stream, when the provider closes a stream after its page limit: the
// request at the cap is asked again on the next stream, and the complete
// answer at the cap is sent rather than left to a stream of its own.
func TestStreamPageLimitContinues(t *testing.T) {
	hosts := testnet.New(t, 2)
	provider := newPager("/test/a", orders(6, 7), 2)
	newService(t, hosts[1], []Subprotocol{provider}, append(testOptions(t, 1), WithMaxRequestsPerStream(2))...)
	requesterSub := newPager("/test/a", nil, 2)
	requester := newService(t, hosts[0], []Subprotocol{requesterSub}, testOptions(t, 1)...)
	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got, want := provider.offsetsAsked(), []int{0, 2, 4, 4, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("provider asked for offsets %v, want %v", got, want)
	}
	if got := requesterSub.receivedCount(); got != 7 {
		t.Errorf("requester kept %d orders, want 7", got)
	}
}

func TestMinPeersConcurrencyAndCount(t *testing.T) {
	const providers, minPeers = 5, 2
	hosts := testnet.New(t, providers+1)
	var active, maxActive, asked atomic.Int32
	arrived := make(chan struct{}, providers)
	release := make(chan struct{})
	block := func(ctx context.Context, offset int) error {
		if offset != 0 {
			return nil
		}
		asked.Add(1)
		n := active.Add(1)
		defer active.Add(-1)
		for {
			m := maxActive.Load()
			if n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		arrived <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i, h := range hosts[1:] {
		p := newPager("/test/a", orders(int64(10+i), 3), 10)
		p.block = block
		newService(t, h, []Subprotocol{p}, testOptions(t, 1)...)
	}
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)

	done := make(chan error, 1)
	go func() { done <- requester.GetOrders(t.Context(), minPeers) }()
	for range minPeers {
		<-arrived
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if m := maxActive.Load(); m > minPeers {
		t.Errorf("%d syncs at once, want at most %d", m, minPeers)
	}
	if n := asked.Load(); n != minPeers {
		t.Errorf("%d providers asked, want %d: all syncs succeed, so no more are needed", n, minPeers)
	}
	if c := requester.Stats().SyncsCompleted; c != minPeers {
		t.Errorf("%d syncs completed, want %d", c, minPeers)
	}
}

func TestPeersWithoutOrdersDoNotCount(t *testing.T) {
	hosts := testnet.New(t, 5)
	full, empty := hosts[1:3], hosts[3:5]
	for i, h := range full {
		newService(t, h, []Subprotocol{newPager("/test/a", orders(int64(20+i), 2), 10)}, testOptions(t, 1)...)
	}
	for _, h := range empty {
		newService(t, h, []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	}
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 3)...)
	if err := requester.GetOrders(t.Context(), 2); err != nil {
		t.Fatalf("GetOrders with 2 of 4 peers holding orders: %v", err)
	}
	st := requester.Stats()
	for _, h := range full {
		if ps := st.Providers[h.ID()]; ps.LastError != "" || ps.Orders != 2 {
			t.Errorf("provider with orders: %+v", ps)
		}
	}
	for _, h := range empty {
		if ps, ok := st.Providers[h.ID()]; ok && ps.LastError != ErrNoOrdersFromPeer.Error() {
			t.Errorf("provider without orders: last error %q, want %q", ps.LastError, ErrNoOrdersFromPeer)
		}
	}

	// Three peers cannot be found: the schedule runs out.
	requester3 := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 2)...)
	if err := requester3.GetOrders(t.Context(), 3); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders(3) with 2 peers holding orders: %v, want ErrTooFewPeers", err)
	}
	for _, h := range empty {
		if ps := requester3.Stats().Providers[h.ID()]; ps.LastError != ErrNoOrdersFromPeer.Error() {
			t.Errorf("provider without orders: last error %q, want %q", ps.LastError, ErrNoOrdersFromPeer)
		}
	}
}

func TestBackoffSchedule(t *testing.T) {
	// The default schedule, as docs/protocol.md gives it.
	b := exponentialBackoff(DefaultInitialBackoff, DefaultMaxBackoff)()
	b.Reset()
	want := []time.Duration{250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000}
	for i, w := range want {
		if got := b.NextBackOff(); got != w*time.Millisecond {
			t.Fatalf("wait %d = %v, want %v", i, got, w*time.Millisecond)
		}
	}

	// GetOrders waits what its schedule says between rounds, and gives up
	// when it stops.
	h := testnet.NewHost(t) // no peers: every round fails
	script := []time.Duration{3 * time.Millisecond, 5 * time.Millisecond, 7 * time.Millisecond}
	waits := &recordedWaits{}
	s := newService(t, h, []Subprotocol{newPager("/test/a", nil, 1)},
		append(testOptions(t, 1), withTimer(waits.after), WithBackoffFactory(func() backoff.BackOff {
			return &scriptedBackoff{script: script}
		}))...)
	if err := s.GetOrders(t.Context(), 1); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	if got := waits.get(); !slices.Equal(got, script) {
		t.Errorf("waited %v, want %v", got, script)
	}
}

// scriptedBackoff returns its script, then Stop.
type scriptedBackoff struct {
	script []time.Duration
	i      int
}

func (b *scriptedBackoff) Reset() { b.i = 0 }
func (b *scriptedBackoff) NextBackOff() time.Duration {
	if b.i == len(b.script) {
		return backoff.Stop
	}
	b.i++
	return b.script[b.i-1]
}

func TestPeriodicallyGetOrdersJitter(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(30, 2), 10)}, testOptions(t, 1)...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	randoms := []float64{0, 0.5, 0.75}
	var next int
	waits := &recordedWaits{onAdd: func(n int) {
		if n == len(randoms) {
			cancel()
		}
	}}
	requester := newService(t, hosts[0], []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), withTimer(waits.after), withRandom(func() float64 {
			next++
			return randoms[next-1]
		}))...)
	err := requester.PeriodicallyGetOrders(ctx, 1, time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PeriodicallyGetOrders: %v, want context.Canceled", err)
	}
	want := []time.Duration{900 * time.Millisecond, time.Second, 1050 * time.Millisecond}
	if got := waits.get(); !slices.Equal(got, want) {
		t.Errorf("waited %v, want %v", got, want)
	}
	if c := requester.Stats().SyncsCompleted; c < 3 {
		t.Errorf("%d syncs completed, want at least 3", c)
	}
}

func TestPeriodicallyGetOrdersStopsOnError(t *testing.T) {
	h := testnet.NewHost(t)
	s := newService(t, h, []Subprotocol{newPager("/test/a", nil, 1)}, testOptions(t, 1)...)
	if err := s.PeriodicallyGetOrders(t.Context(), 1, time.Second); !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("PeriodicallyGetOrders: %v, want ErrTooFewPeers", err)
	}
	if err := s.PeriodicallyGetOrders(t.Context(), 0, time.Second); !errors.Is(err, ErrInvalidMinPeers) {
		t.Fatalf("minPeers 0: %v, want ErrInvalidMinPeers", err)
	}
}
