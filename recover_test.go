package ordersync

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/testing/testnet"
)

// panicky is a pager whose handlers panic, as a subprotocol with a bug
// that a peer's input reaches.
type panicky struct {
	*pager
	onRequest, onResponse bool
}

func (p *panicky) HandleOrderSyncRequest(ctx context.Context, req *Request) (*Response, error) {
	if p.onRequest {
		var counts []int
		_ = counts[len(req.RequesterID)] // index out of range
	}
	return p.pager.HandleOrderSyncRequest(ctx, req)
}

func (p *panicky) HandleOrderSyncResponse(ctx context.Context, res *Response) (*Request, int, error) {
	if p.onResponse {
		panic("panicky: a response")
	}
	return p.pager.HandleOrderSyncResponse(ctx, res)
}

// panicLog is a logger that keeps the panics logged.
type panicLog struct {
	mu      sync.Mutex
	entries []*logrus.Entry
}

func (h *panicLog) Levels() []logrus.Level { return []logrus.Level{logrus.ErrorLevel} }
func (h *panicLog) Fire(e *logrus.Entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.entries = append(h.entries, e)
	return nil
}

func (h *panicLog) logger(t *testing.T) logrus.FieldLogger {
	l := quietLogger(t).(*logrus.Logger)
	l.AddHook(h)
	return l
}

// stacks returns the stacks of the panics logged so far.
func (h *panicLog) stacks() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.entries {
		if s, ok := e.Data["stack"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// A subprotocol that panics serving one requester's request ends that
// stream only: the panic is logged with its stack, the requester is
// scored, and the provider goes on serving another requester.
func TestPanicServingEndsOnlyThatStream(t *testing.T) {
	hosts := testnet.New(t, 3)
	provider, bad, good := hosts[0], hosts[1], hosts[2]
	var log panicLog
	opts := append(testOptions(t, 1), WithLogger(log.logger(t)))
	newService(t, provider, []Subprotocol{
		&panicky{pager: newPager("/test/panics", orders(3, 5), 10), onRequest: true},
		newPager("/test/a", orders(3, 5), 10),
	}, opts...)

	badReq := newService(t, bad, []Subprotocol{newPager("/test/panics", nil, 10)}, testOptions(t, 1)...)
	if err := badReq.GetOrders(t.Context(), 1); err == nil {
		t.Fatal("a sync whose provider panicked succeeded")
	}
	stacks := log.stacks()
	if len(stacks) != 1 || !strings.Contains(stacks[0], "HandleOrderSyncRequest") {
		t.Fatalf("logged stacks %q, want one through HandleOrderSyncRequest", stacks)
	}
	if v, _ := tag(provider, bad.ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("provider's %s tag for the requester = %d, want %d", peerscore.InvalidMessage, v, peerscore.InvalidMessageDelta)
	}

	goodSub := newPager("/test/a", nil, 10)
	goodReq := newService(t, good, []Subprotocol{goodSub}, testOptions(t, 1)...)
	if err := goodReq.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("the next requester: GetOrders: %v", err)
	}
	if got := goodSub.receivedCount(); got != 5 {
		t.Errorf("the next requester got %d orders, want 5", got)
	}
}

// A requester's subprotocol that panics on a provider's response ends
// that sync with ErrPanicked and scores the provider; the Service syncs
// with the next provider.
func TestPanicSyncingEndsOnlyThatSync(t *testing.T) {
	hosts := testnet.New(t, 3)
	requester, bad, good := hosts[0], hosts[1], hosts[2]
	newService(t, bad, []Subprotocol{newPager("/test/panics", orders(4, 5), 10)}, testOptions(t, 1)...)
	newService(t, good, []Subprotocol{newPager("/test/a", orders(4, 5), 10)}, testOptions(t, 1)...)
	var log panicLog
	goodSub := newPager("/test/a", nil, 10)
	s := newService(t, requester, []Subprotocol{
		&panicky{pager: newPager("/test/panics", nil, 10), onResponse: true},
		goodSub,
	}, append(testOptions(t, 1), WithLogger(log.logger(t)))...)

	_, err := s.syncWithPeer(t.Context(), bad.ID())
	if !errors.Is(err, ErrPanicked) {
		t.Fatalf("sync with the provider whose response panics: %v, want ErrPanicked", err)
	}
	if stacks := log.stacks(); len(stacks) != 1 || !strings.Contains(stacks[0], "HandleOrderSyncResponse") {
		t.Fatalf("logged stacks %q, want one through HandleOrderSyncResponse", stacks)
	}
	if v, _ := tag(requester, bad.ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("requester's %s tag for the provider = %d, want %d", peerscore.InvalidMessage, v, peerscore.InvalidMessageDelta)
	}
	if n, err := s.syncWithPeer(t.Context(), good.ID()); err != nil || n != 5 {
		t.Fatalf("sync with the next provider: %d orders, %v; want 5", n, err)
	}
}
