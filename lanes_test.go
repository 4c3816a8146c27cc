package ordersync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// laneMeta is a request of lanePager: the offset to page from and, in
// memory only, where its lane ends (offsets from until on belong to the
// next lane; 0: the last lane, which ends with the provider's orders).
type laneMeta struct {
	pageMeta
	until int
}

// lanePager is the tests' pager as a Spreader: Spread splits the offsets
// from the early request's to space into lanes of equal width, and a lane
// drops the orders of a page that lie at or past its end, as the
// pagination subprotocols drop hashes past theirs.
type lanePager struct {
	*pipelinedPager
	space int
	// tooMany makes Spread return one lane more than asked for.
	tooMany bool
	// beforeLane, if not nil, runs before a lane's response is
	// validated; an error ends the sync as a validation error would.
	beforeLane func(ctx context.Context, m laneMeta, resp *Response) error
}

var _ Spreader = (*lanePager)(nil)

func newLanePager(name string, space, perPage int) *lanePager {
	return &lanePager{pipelinedPager: &pipelinedPager{pager: newPager(name, nil, perPage)}, space: space}
}

func (p *lanePager) Spread(ctx context.Context, resp *Response, next *Request, n int) ([]*Request, error) {
	from := next.Metadata.(pageMeta).Offset
	if from >= p.space {
		return nil, nil
	}
	if p.tooMany {
		n++
	}
	var reqs []*Request
	for i := range n {
		start := from + i*(p.space-from)/n
		until := from + (i+1)*(p.space-from)/n
		if i == n-1 {
			until = 0
		} else if until <= start {
			continue // too narrow for a lane of its own
		}
		reqs = append(reqs, &Request{Metadata: laneMeta{pageMeta{Offset: start}, until}})
	}
	return reqs, nil
}

func (p *lanePager) NextLaneRequest(ctx context.Context, req *Request, resp *Response) (*Request, error) {
	m := req.Metadata.(laneMeta)
	next := resp.Metadata.(pageResponseMeta).Next
	if m.until > 0 && next >= m.until {
		return nil, nil
	}
	return &Request{Metadata: laneMeta{pageMeta{Offset: next}, m.until}}, nil
}

func (p *lanePager) HandleLaneResponse(ctx context.Context, req *Request, resp *Response) (*Request, int, error) {
	m := req.Metadata.(laneMeta)
	if p.beforeLane != nil {
		if err := p.beforeLane(ctx, m, resp); err != nil {
			return nil, 0, err
		}
	}
	valid := 0
	p.mu.Lock()
	p.pages++
	for i, o := range resp.Orders {
		if m.until > 0 && m.Offset+i >= m.until {
			break // the next lane's
		}
		if o.VerifySignature() == nil {
			p.received = append(p.received, o)
			valid++
		}
	}
	p.mu.Unlock()
	if resp.Complete {
		return nil, valid, nil
	}
	next, _ := p.NextLaneRequest(ctx, req, resp)
	return next, valid, nil
}

// receivedOrders returns what the requester kept.
func (p *lanePager) receivedOrders() []*zeroex.SignedOrder {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.received)
}

// checkExactly fails t unless got holds each of want exactly once.
func checkExactly(t *testing.T, got, want []*zeroex.SignedOrder) {
	t.Helper()
	count := make(map[*zeroex.SignedOrder]int)
	for _, o := range want {
		count[o] = 0
	}
	hashes := func(os []*zeroex.SignedOrder) map[string]int {
		m := make(map[string]int)
		for _, o := range os {
			h, err := o.ComputeOrderHash()
			if err != nil {
				t.Fatal(err)
			}
			m[h.Hex()]++
		}
		return m
	}
	g, w := hashes(got), hashes(want)
	for h, n := range g {
		if n != 1 || w[h] != 1 {
			t.Errorf("order %s received %d times, provider holds it %d times", h, n, w[h])
		}
	}
	for h := range w {
		if g[h] == 0 {
			t.Errorf("order %s of the provider never received", h)
		}
	}
}

// inFlightNode counts, on every stream the requester opens, the requests
// it has written and the responses it has received, and keeps the most
// requests that were written without an answer having arrived: an upper
// bound of the requests in flight.
type inFlightNode struct {
	*HostNode
	most atomic.Int64
}

func (n *inFlightNode) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := n.HostNode.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return &inFlightStream{Stream: s, node: n}, nil
}

type inFlightStream struct {
	network.Stream
	node              *inFlightNode
	mu                sync.Mutex
	written, received int64
}

// Messages are compact JSON, one a line, so newlines count them.
func (s *inFlightStream) Write(b []byte) (int, error) {
	s.mu.Lock()
	s.written += int64(bytes.Count(b, []byte("\n")))
	if d := s.written - s.received; d > s.node.most.Load() {
		s.node.most.Store(d)
	}
	s.mu.Unlock()
	return s.Stream.Write(b)
}

func (s *inFlightStream) Read(b []byte) (int, error) {
	n, err := s.Stream.Read(b)
	s.mu.Lock()
	s.received += int64(bytes.Count(b[:n], []byte("\n")))
	s.mu.Unlock()
	return n, err
}

// laneSetup is a provider of n orders (perPage a page) and a requester
// with a lanePager over space, syncing in lanes.
type laneSetup struct {
	provider   *pager
	providerID peer.ID
	sub        *lanePager
	node       *inFlightNode
	requester  *Service
	orders     []*zeroex.SignedOrder
}

func newLaneSetup(t *testing.T, n, perPage, space, lanes int, providerOpts, requesterOpts []Option) *laneSetup {
	t.Helper()
	hosts := testnet.New(t, 2)
	ls := &laneSetup{orders: orders(int64(n), n), providerID: hosts[1].ID()}
	ls.provider = newPager("/test/a", ls.orders, perPage)
	newService(t, hosts[1], []Subprotocol{ls.provider}, append(testOptions(t, 1), providerOpts...)...)
	ls.sub = newLanePager("/test/a", space, perPage)
	ls.node = &inFlightNode{HostNode: NewHostNode(hosts[0])}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ls.requester = New(ctx, ls.node, []Subprotocol{ls.sub}, append(append(testOptions(t, 1), WithLanes(lanes)), requesterOpts...)...)
	return ls
}

func TestLanesDeliverExactlyTheProviderSet(t *testing.T) {
	const perPage, lanes = 5, 4
	for _, tc := range []struct {
		name          string
		orders, space int
		// spreads: the first page is followed by lanes lanes.
		spreads bool
	}{
		// Spread declines: the first page reached the end of the space.
		{"one order", 1, 1, false},
		{"one page less one", perPage - 1, perPage - 1, false},
		{"one order, spread", 1, 1000, true},
		{"one full page", perPage, 1000, true},
		{"one page and one", perPage + 1, 1000, true},
		// Lanes of 5 from offset 5: every lane starts on a page boundary,
		// the orders at lane starts are the first of their lanes.
		{"lane starts on page boundaries", 25, 25, true},
		// Lanes of 10, 10, 10, 11 from offset 5: pages run across them.
		{"pages across lane starts", 46, 46, true},
		// The provider holds far less than the space: the upper lanes
		// hold no order, and the first complete response ends them.
		{"empty lanes above the provider's orders", 23, 200, true},
		// Narrow lanes: each ends with its first page.
		{"lanes narrower than a page", 12, 12, true},
		{"many pages per lane", 137, 137, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := newLaneSetup(t, tc.orders, perPage, tc.space, lanes, nil, nil)
			if _, err := ls.requester.syncWithPeer(guardCtx(t), ls.providerID); err != nil {
				t.Fatalf("sync: %v", err)
			}
			checkExactly(t, ls.sub.receivedOrders(), ls.orders)
			most := ls.node.most.Load()
			if most > lanes {
				t.Errorf("%d requests in flight at once, want at most %d", most, lanes)
			}
			if tc.spreads && most != lanes {
				t.Errorf("at most %d requests in flight, want %d: the sync did not spread", most, lanes)
			}
			if !tc.spreads && most != 1 {
				t.Errorf("%d requests in flight at once, want 1 for a book of one page", most)
			}
		})
	}
}

func TestOneLaneAsksOnePageAhead(t *testing.T) {
	ls := newLaneSetup(t, 40, 5, 40, 1, nil, nil)
	if _, err := ls.requester.syncWithPeer(guardCtx(t), ls.providerID); err != nil {
		t.Fatalf("sync: %v", err)
	}
	checkExactly(t, ls.sub.receivedOrders(), ls.orders)
	if most := ls.node.most.Load(); most != 1 {
		t.Errorf("%d requests in flight at once with WithLanes(1), want 1", most)
	}
	if got, want := ls.provider.offsetsAsked(), []int{0, 5, 10, 15, 20, 25, 30, 35, 40}; !slices.Equal(got, want) {
		t.Errorf("provider asked for offsets %v, want %v", got, want)
	}
}

func TestLanesResumeInALaterRound(t *testing.T) {
	ls := newLaneSetup(t, 60, 5, 60, 4, nil, nil)
	ctx, cancel := context.WithCancel(guardCtx(t))
	var once sync.Once
	ls.sub.beforeLane = func(_ context.Context, m laneMeta, resp *Response) error {
		if m.Offset == 37 { // the second page of the third lane, [32, 46)
			once.Do(cancel)
			return context.Canceled
		}
		return nil
	}
	if _, err := ls.requester.syncWithPeer(ctx, ls.providerID); !errors.Is(err, context.Canceled) {
		t.Fatalf("first sync: %v, want context.Canceled", err)
	}
	point, ok := ls.requester.resume.take(ls.providerID)
	if !ok || !point.spread || len(point.lanes) < 2 {
		t.Fatalf("resume point %+v (found %v), want the sync's lanes", point, ok)
	}
	var resumeAt []int
	for _, l := range point.lanes {
		resumeAt = append(resumeAt, l.req.Metadata.(laneMeta).Offset)
	}
	if !slices.Contains(resumeAt, 37) {
		t.Errorf("lanes resume at offsets %v, want the page cut off (37) among them", resumeAt)
	}
	ls.requester.resume.put(ls.providerID, point)
	ls.sub.beforeLane = nil
	before := len(ls.provider.offsetsAsked())
	if _, err := ls.requester.syncWithPeer(guardCtx(t), ls.providerID); err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	checkExactly(t, ls.sub.receivedOrders(), ls.orders)
	// The resumed sync starts with every lane's request, not from 0.
	asked := ls.provider.offsetsAsked()
	if slices.Contains(asked[before:], 0) {
		t.Errorf("resumed sync asked for offset 0 again: %v", asked[before:])
	}
	for _, off := range resumeAt {
		if !slices.Contains(asked[before:], off) {
			t.Errorf("resumed sync did not ask for offset %d again (asked %v)", off, asked[before:])
		}
	}
}

func TestLanesGoOnAtTheStreamPageCap(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			ls := newLaneSetup(t, 53, 5, 53, 4, []Option{WithMaxRequestsPerStream(limit)}, nil)
			if _, err := ls.requester.syncWithPeer(guardCtx(t), ls.providerID); err != nil {
				t.Fatalf("sync: %v", err)
			}
			checkExactly(t, ls.sub.receivedOrders(), ls.orders)
			if most := ls.node.most.Load(); most > 4 {
				t.Errorf("%d requests in flight at once, want at most 4", most)
			}
		})
	}
}

func TestLanesCountTowardsTheSyncBounds(t *testing.T) {
	// 40 orders at 5 a page, lanes from 5 to 40: [5,13) [13,22) [22,31)
	// [31,...). The pages counted are 0-4, 5-9, 13-17, 22-26, 31-35 and
	// 36-39, with 29 orders: those that end a lane (10-14, 18-22, 27-31,
	// and the complete one) are not.
	for _, tc := range []struct {
		name         string
		pages, count int
		want         error
	}{
		{"a book of exactly the bounds", 8, 40, nil},
		{"pages counted at the bound", 6, 29, nil},
		{"one page too many", 5, 40, ErrTooManyPages},
		{"one order too many", 8, 28, ErrTooManyOrders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := newLaneSetup(t, 40, 5, 40, 4, nil, []Option{WithMaxPagesPerSync(tc.pages), WithMaxOrdersPerSync(tc.count)})
			_, err := ls.requester.syncWithPeer(guardCtx(t), ls.providerID)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("sync error %v, want %v", err, tc.want)
			}
			if tc.want == nil {
				checkExactly(t, ls.sub.receivedOrders(), ls.orders)
			}
		})
	}
}

func TestSpreadIntoTooManyLanesEndsSync(t *testing.T) {
	ls := newLaneSetup(t, 40, 5, 40, 4, nil, nil)
	ls.sub.tooMany = true
	_, err := ls.requester.syncWithPeer(guardCtx(t), ls.providerID)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("5 lanes")) {
		t.Fatalf("sync error %v, want one about 5 lanes", err)
	}
	if most := ls.node.most.Load(); most > 4 {
		t.Errorf("%d requests in flight at once, want at most 4", most)
	}
}

// closeAfterComplete serves the tests' pager on h the way the original
// providers do: it answers requests in order and closes the stream after
// the first complete response, whatever requests are left.
func closeAfterComplete(t *testing.T, h interface {
	SetStreamHandler(protocol.ID, network.StreamHandler)
}, sub *pager) *atomic.Int64 {
	var streams atomic.Int64
	h.SetStreamHandler(ID, func(s network.Stream) {
		defer s.Close()
		streams.Add(1)
		br := bufio.NewReader(s)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			var req struct {
				Metadata json.RawMessage `json:"metadata"`
			}
			if err := json.Unmarshal(line, &req); err != nil {
				t.Errorf("provider: request %q: %v", line, err)
				return
			}
			var first struct {
				Metadata []json.RawMessage `json:"metadata"`
			}
			md := req.Metadata
			if json.Unmarshal(md, &first) == nil && len(first.Metadata) > 0 {
				md = first.Metadata[0]
			}
			parsed, err := sub.ParseRequestMetadata(md)
			if err != nil {
				t.Errorf("provider: %v", err)
				return
			}
			resp, err := sub.HandleOrderSyncRequest(context.Background(), &Request{Metadata: parsed})
			if err != nil {
				t.Errorf("provider: %v", err)
				return
			}
			out, err := json.Marshal(map[string]any{"type": TypeResponse, "subprotocol": sub.Name(),
				"orders": resp.Orders, "complete": resp.Complete, "metadata": resp.Metadata})
			if err != nil {
				t.Errorf("provider: %v", err)
				return
			}
			if _, err := s.Write(append(out, '\n')); err != nil || resp.Complete {
				return
			}
		}
	})
	return &streams
}

func TestLanesGoOnWhenTheProviderClosesAfterComplete(t *testing.T) {
	hosts := testnet.New(t, 2)
	// 40 orders, lanes over offsets 5 to 120: the third and fourth lanes
	// start past the provider's orders, so the third lane's answer is
	// complete while the first two still page.
	providerSub := newPager("/test/a", orders(40, 40), 5)
	streams := closeAfterComplete(t, hosts[1], providerSub)
	sub := newLanePager("/test/a", 120, 5)
	requester := newService(t, hosts[0], []Subprotocol{sub}, append(testOptions(t, 1), WithLanes(4))...)
	if _, err := requester.syncWithPeer(guardCtx(t), hosts[1].ID()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	checkExactly(t, sub.receivedOrders(), providerSub.orders)
	if n := streams.Load(); n < 2 {
		t.Errorf("sync used %d streams, want a new one after the provider closed", n)
	}
}
