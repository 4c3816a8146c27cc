package ordersync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// pageMeta is the request metadata of pager, the tests' subprotocol: the
// offset to page from, and which subprotocol's first request it came from.
type pageMeta struct {
	Offset int    `json:"offset"`
	From   string `json:"from,omitempty"`
}

// pageResponseMeta is pager's response metadata.
type pageResponseMeta struct {
	Next int `json:"next"`
}

// pager is a small Subprotocol for tests: a provider serves its orders
// perPage at a time from an offset; a requester checks signatures and keeps
// the valid orders. Complete is true exactly when a page is empty, as in
// the subprotocols on the network. It records what it is asked.
type pager struct {
	name    string
	orders  []*zeroex.SignedOrder
	perPage int
	// block, if not nil, is called on each request before answering.
	block func(ctx context.Context, offset int) error
	// trust skips signature checks (for benchmarks of the transport).
	trust bool
	// keep nothing received (for benchmarks that sync many times).
	discard bool

	mu       sync.Mutex
	requests []pageMeta // as a provider
	received []*zeroex.SignedOrder
	pages    int
}

func newPager(name string, orders []*zeroex.SignedOrder, perPage int) *pager {
	return &pager{name: name, orders: orders, perPage: perPage}
}

func (p *pager) Name() string { return p.name }

func (p *pager) ParseRequestMetadata(m json.RawMessage) (interface{}, error) {
	var meta pageMeta
	if bytes.Equal(m, []byte("null")) {
		return meta, nil
	}
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return nil, fmt.Errorf("pager: request metadata: %w", err)
	}
	if meta.Offset < 0 {
		return nil, fmt.Errorf("pager: offset %d: negative", meta.Offset)
	}
	return meta, nil
}

func (p *pager) ParseResponseMetadata(m json.RawMessage) (interface{}, error) {
	var meta pageResponseMeta
	if err := json.Unmarshal(m, &meta); err != nil {
		return nil, fmt.Errorf("pager: response metadata: %w", err)
	}
	return meta, nil
}

func (p *pager) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	return json.Marshal(pageMeta{From: p.name})
}

func (p *pager) HandleOrderSyncRequest(ctx context.Context, req *Request) (*Response, error) {
	meta := req.Metadata.(pageMeta)
	p.mu.Lock()
	p.requests = append(p.requests, meta)
	p.mu.Unlock()
	if p.block != nil {
		if err := p.block(ctx, meta.Offset); err != nil {
			return nil, err
		}
	}
	start := min(meta.Offset, len(p.orders))
	end := min(start+p.perPage, len(p.orders))
	page := p.orders[start:end]
	return &Response{
		Orders:   page,
		Complete: len(page) == 0,
		Metadata: pageResponseMeta{Next: end},
	}, nil
}

func (p *pager) HandleOrderSyncResponse(ctx context.Context, resp *Response) (*Request, int, error) {
	valid := 0
	p.mu.Lock()
	p.pages++
	for _, o := range resp.Orders {
		if p.trust || o.VerifySignature() == nil {
			if !p.discard {
				p.received = append(p.received, o)
			}
			valid++
		}
	}
	p.mu.Unlock()
	if resp.Complete {
		return nil, valid, nil
	}
	next := resp.Metadata.(pageResponseMeta).Next
	return &Request{Metadata: pageMeta{Offset: next}}, valid, nil
}

func (p *pager) offsetsAsked() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, len(p.requests))
	for i, r := range p.requests {
		out[i] = r.Offset
	}
	return out
}

func (p *pager) requestsSeen() []pageMeta {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pageMeta(nil), p.requests...)
}

func (p *pager) receivedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.received)
}

// orders returns n real signed orders, the same for the same seed.
func orders(seed int64, n int) []*zeroex.SignedOrder {
	if n == 0 {
		return nil
	}
	return ordergen.Generate(ordergen.Options{Seed: seed, Count: n})
}

// quietLogger keeps test output readable; set ORDERSYNC_TEST_LOG to see it.
func quietLogger(t testing.TB) logrus.FieldLogger {
	l := logrus.New()
	l.SetLevel(logrus.WarnLevel)
	l.SetOutput(testWriter{t})
	return l
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

// testOptions are what every test Service gets: no rate limit, no waiting
// between rounds, a schedule that gives up after a few rounds, quiet logs.
func testOptions(t testing.TB, rounds int) []Option {
	return []Option{
		WithLogger(quietLogger(t)),
		WithRateLimit(rate.Inf, 0),
		WithPeerRateLimit(rate.Inf, 0),
		WithBackoffFactory(func() backoff.BackOff { return backoff.WithMaxRetries(&backoff.ZeroBackOff{}, uint64(rounds-1)) }),
	}
}

// newService starts a Service on h, stopped when the test ends.
func newService(t testing.TB, h host.Host, subs []Subprotocol, opts ...Option) *Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return New(ctx, NewHostNode(h), subs, opts...)
}

// tag reads the score tag that h's connection manager holds for p, and
// whether it is there.
func tag(h host.Host, p peer.ID, name string) (int, bool) {
	info := h.ConnManager().GetTagInfo(p)
	if info == nil {
		return 0, false
	}
	v, ok := info.Tags[name]
	return v, ok
}

// recordedWaits is a withTimer that records each wait and skips it.
type recordedWaits struct {
	mu    sync.Mutex
	waits []time.Duration
	onAdd func(n int)
}

func (r *recordedWaits) after(d time.Duration) <-chan time.Time {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	n := len(r.waits)
	r.mu.Unlock()
	if r.onAdd != nil {
		r.onAdd(n)
	}
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func (r *recordedWaits) get() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// rawStream opens an ordersync stream from h to p for tests that speak the
// wire themselves.
func rawStream(t testing.TB, h host.Host, p peer.ID) network.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, p, ID)
	if err != nil {
		t.Fatalf("opening a stream: %v", err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	// A hang guard only: no test waits this long when it passes.
	_ = s.SetDeadline(time.Now().Add(20 * time.Second))
	return s
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// withRandom sets the source of the jitter: random must return numbers in
// [0, 1). Default math/rand/v2's Float64. A test seam.
func withRandom(random func() float64) Option {
	return func(c *config) error {
		if random == nil {
			return fmt.Errorf("ordersync: random source: must not be nil")
		}
		c.random = random
		return nil
	}
}

// withTimer sets how the Service waits, between rounds of GetOrders and
// between runs of PeriodicallyGetOrders: after(d) must deliver on the
// channel once d has passed. Default time.After. Tests record the waits and
// skip them; a test seam, not part of the API.
func withTimer(after func(time.Duration) <-chan time.Time) Option {
	return func(c *config) error {
		if after == nil {
			return fmt.Errorf("ordersync: timer: must not be nil")
		}
		c.after = after
		return nil
	}
}
