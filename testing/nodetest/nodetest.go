// Package nodetest runs ordersync nodes on real hosts for the subprotocols'
// tests: signed orders, a node (host, store, Service) speaking named
// subprotocols, a provider that spoils its answers, raw wire streams, and
// checks of what a store holds. The tests of package subprotocols and of
// package reconcile share it.
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package nodetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/zeroex"
	"golang.org/x/time/rate"
)

// generated caches ordergen's orders across tests: signing is the slow part.
var generated struct {
	once   sync.Once
	orders []*zeroex.SignedOrder
}

// Orders returns the first n of a fixed set of 10 000 signed orders.
func Orders(n int) []*zeroex.SignedOrder {
	generated.once.Do(func() {
		generated.orders = ordergen.Generate(ordergen.Options{Seed: 42, Count: 10_000})
	})
	return generated.orders[:n]
}

// Node is one ordersync Node of a test: a host, its store and its Service.
type Node struct {
	Host    host.Host
	Store   *orderstore.Memory
	Service *ordersync.Service
}

// OrderCounts are the counts of a node's Stats that the requester
// pipeline moves.
type OrderCounts struct {
	Received, Accepted, New, BadSignature, FilterMismatch int64
}

// Counts are the node's Stats that the requester pipeline moves.
func (n *Node) Counts() OrderCounts {
	st := n.Service.Stats()
	return OrderCounts{
		Received: st.OrdersReceived, Accepted: st.OrdersAccepted, New: st.OrdersNew,
		BadSignature:   st.OrdersRejected[ordersync.RejectBadSignature],
		FilterMismatch: st.OrdersRejected[ordersync.RejectFilterMismatch],
	}
}

// StartNode runs a Service on h over a new store holding orders, speaking
// the named subprotocols in that order of preference.
func StartNode(t *testing.T, h host.Host, orders []*zeroex.SignedOrder, filter *orderfilter.Filter, names []string, opts ...pagination.Option) *Node {
	t.Helper()
	return StartNodeWith(t, h, orders, filter, names, nil, opts...)
}

// StartNodeWith is StartNode with options for the Service, on top of
// StartService's.
func StartNodeWith(t *testing.T, h host.Host, orders []*zeroex.SignedOrder, filter *orderfilter.Filter, names []string, serviceOpts []ordersync.Option, opts ...pagination.Option) *Node {
	t.Helper()
	n := &Node{Host: h, Store: orderstore.NewMemory()}
	if _, err := n.Store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	hostNode := ordersync.NewHostNode(h)
	opts = append([]pagination.Option{pagination.WithPeerScorer(hostNode)}, opts...)
	subs := make([]ordersync.Subprotocol, len(names))
	for i, name := range names {
		switch name {
		case filteredpagination.Name:
			subs[i] = filteredpagination.New(n.Store, filter, opts...)
		case ordinal.Name:
			subs[i] = ordinal.New(n.Store, filter, opts...)
		case reconcile.Name:
			subs[i] = reconcile.New(n.Store, filter, reconcile.WithPeerScorer(hostNode), reconcile.WithPagination(opts...))
		default:
			t.Fatalf("unknown subprotocol %q", name)
		}
	}
	n.Service = StartService(t, hostNode, subs, serviceOpts...)
	return n
}

// StartService runs a Service on n with subs, its rate limits lifted and
// a quick backoff, until the test ends.
func StartService(t *testing.T, n ordersync.Node, subs []ordersync.Subprotocol, opts ...ordersync.Option) *ordersync.Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ordersync.New(ctx, n, subs, append([]ordersync.Option{
		ordersync.WithRateLimit(rate.Inf, 1),
		ordersync.WithPeerRateLimit(rate.Inf, 1),
		ordersync.WithBackoff(time.Millisecond, 20*time.Millisecond)}, opts...)...)
}

// GetOrders runs one GetOrders from n with a generous bound: a hang fails
// the test instead of timing it out.
func (n *Node) GetOrders(t *testing.T, minPeers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Service.GetOrders(ctx, minPeers); err != nil {
		t.Fatalf("GetOrders: %v (stats %+v)", err, n.Service.Stats())
	}
}

// Hashes returns the Hashes a store holds, ascending.
func Hashes(t *testing.T, s *orderstore.Memory) []common.Hash {
	t.Helper()
	var out []common.Hash
	err := s.Each(context.Background(), func(h common.Hash, _ *zeroex.SignedOrder) bool {
		out = append(out, h)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// HashSet is the set of the orders' hashes.
func HashSet(t *testing.T, orders []*zeroex.SignedOrder) map[common.Hash]bool {
	t.Helper()
	set := make(map[common.Hash]bool, len(orders))
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		set[h] = true
	}
	return set
}

// SameOrders fails unless the requester's store holds exactly want.
func SameOrders(t *testing.T, got *orderstore.Memory, want []*zeroex.SignedOrder) {
	t.Helper()
	wantSet := HashSet(t, want)
	gotHashes := Hashes(t, got)
	if len(gotHashes) != len(wantSet) {
		t.Fatalf("store holds %d orders, want %d", len(gotHashes), len(wantSet))
	}
	for _, h := range gotHashes {
		if !wantSet[h] {
			t.Fatalf("store holds %s, which it should not", h)
		}
	}
}

// Tag is the score p has under the tag name in h's connection manager.
func Tag(h host.Host, p peer.ID, name string) int {
	info := h.ConnManager().GetTagInfo(p)
	if info == nil {
		return 0
	}
	return info.Tags[name]
}

// Tamperer wraps a provider's subprotocol and spoils its answers.
type Tamperer struct {
	ordersync.Subprotocol
	// IgnoreFilter makes the provider answer as if the request had no
	// filter.
	IgnoreFilter bool
	// BadSignatureEvery spoils the signature of every nth order.
	BadSignatureEvery int
	// FailAfter makes the provider close the stream without answering
	// (once) after it has answered that many requests; 0 never.
	FailAfter int

	mu     sync.Mutex
	served int
	failed bool
}

// HandleOrderSyncRequest answers as the wrapped subprotocol does, spoiled
// as the Tamperer's fields say.
func (tp *Tamperer) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	tp.mu.Lock()
	if tp.FailAfter > 0 && tp.served == tp.FailAfter && !tp.failed {
		tp.failed = true
		tp.mu.Unlock()
		return nil, fmt.Errorf("Tamperer: dropping the stream after %d responses", tp.FailAfter)
	}
	tp.served++
	tp.mu.Unlock()

	if tp.IgnoreFilter {
		switch md := req.Metadata.(type) {
		case *filteredpagination.RequestMetadata:
			c := *md
			c.OrderFilter = nil
			req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &c}
		case *ordinal.RequestMetadata:
			c := *md
			c.OrderFilter = nil
			req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &c}
		}
	}
	res, err := tp.Subprotocol.HandleOrderSyncRequest(ctx, req)
	if err != nil || tp.BadSignatureEvery == 0 {
		return res, err
	}
	orders := slices.Clone(res.Orders)
	for i := 0; i < len(orders); i += tp.BadSignatureEvery {
		spoiled := &zeroex.SignedOrder{Order: orders[i].Order, Signature: slices.Clone(orders[i].Signature)}
		spoiled.ResetHash()
		spoiled.Signature[1] ^= 0xff // r changes: another signer, or none
		orders[i] = spoiled
	}
	res.Orders = orders
	return res, nil
}

// WireStream is a raw ordersync stream to a provider.
type WireStream struct {
	t *testing.T
	// Stream is the raw stream, for tests that write or read it
	// themselves.
	Stream network.Stream
	lines  *bufio.Reader
}

// OpenWireStream opens a raw ordersync stream from one host to a provider,
// reset when the test ends.
func OpenWireStream(t *testing.T, from host.Host, to peer.ID) *WireStream {
	t.Helper()
	s, err := from.NewStream(t.Context(), to, ordersync.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	// A provider that never answers fails the test rather than hanging it.
	if err := s.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return &WireStream{t: t, Stream: s, lines: bufio.NewReader(s)}
}

// Request writes one request line.
func (w *WireStream) Request(subprotocols []string, metadata string) {
	w.t.Helper()
	names, _ := json.Marshal(subprotocols)
	msg := `{"type":"Request","subprotocols":` + string(names) + `,"metadata":` + metadata + "}\n"
	if _, err := io.WriteString(w.Stream, msg); err != nil {
		w.t.Fatal(err)
	}
}

// Response reads one response line, as its bytes and decoded. The error is
// io.EOF when the provider closed the stream instead.
func (w *WireStream) Response() ([]byte, *WireResponse, error) {
	line, err := w.lines.ReadBytes('\n')
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return nil, nil, io.EOF
		}
		return nil, nil, fmt.Errorf("reading a response: %w (read %q)", err, line)
	}
	var res WireResponse
	if err := json.Unmarshal(line, &res); err != nil {
		return nil, nil, fmt.Errorf("response %s: %w", line, err)
	}
	return line, &res, nil
}

// WireResponse is a pagination response as it travels on the wire.
type WireResponse struct {
	Type        string                `json:"type"`
	Subprotocol string                `json:"subprotocol"`
	Orders      []*zeroex.SignedOrder `json:"orders"`
	Complete    bool                  `json:"complete"`
	Metadata    struct {
		NextMinOrderHash string `json:"nextMinOrderHash"`
		Page             int    `json:"page"`
		SnapshotID       string `json:"snapshotID"`
	} `json:"metadata"`
}

// ReadLine reads the next message line as it came, for a test that decodes
// a response itself.
func (w *WireStream) ReadLine() ([]byte, error) { return w.lines.ReadBytes('\n') }

// Failed reports whether the Tamperer has dropped a stream (FailAfter).
func (tp *Tamperer) Failed() bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.failed
}

// WaitUntil waits until done, failing the test with what after 30 s. It
// polls, for state that has no event to wait on (a peer's score, a
// counter).
func WaitUntil(t testing.TB, what string, done func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !done() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not after 30 s", what)
		}
	}
}
