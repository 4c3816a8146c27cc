package paging

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

const provider = peer.ID("provider")

// sortedOrders returns n generated orders, ascending by hash, as a
// provider sends them.
func sortedOrders(t testing.TB, first, n int) []*zeroex.SignedOrder {
	t.Helper()
	orders := ordergen.Generate(ordergen.Options{Seed: 7, First: first, Count: n})
	slices.SortFunc(orders, func(a, b *zeroex.SignedOrder) int {
		ha, hb := hashOf(t, a), hashOf(t, b)
		return bytes.Compare(ha[:], hb[:])
	})
	return orders
}

func hashOf(t testing.TB, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// copyOrder returns a deep-enough copy of o that may be changed (fields
// are replaced, not mutated) without touching o or its cached hash.
func copyOrder(o *zeroex.SignedOrder) *zeroex.SignedOrder {
	c := &zeroex.SignedOrder{Order: o.Order, Signature: slices.Clone(o.Signature)}
	c.ResetHash()
	return c
}

// makerFilter returns a filter on ordergen's chain and exchange that only
// matches orders by the given maker.
func makerFilter(t testing.TB, maker common.Address) *orderfilter.Filter {
	t.Helper()
	return schemaFilter(t, fmt.Sprintf(`{"properties":{"makerAddress":{"const":%q}}}`, stringsToLower(maker.Hex())))
}

// notMakerFilter returns a filter on ordergen's chain and exchange that
// matches every order except the given maker's.
func notMakerFilter(t testing.TB, maker common.Address) *orderfilter.Filter {
	t.Helper()
	return schemaFilter(t, fmt.Sprintf(`{"not":{"properties":{"makerAddress":{"const":%q}}}}`, stringsToLower(maker.Hex())))
}

func schemaFilter(t testing.TB, schema string) *orderfilter.Filter {
	t.Helper()
	f, err := orderfilter.New(ordergen.DefaultChainID, schema, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func stringsToLower(s string) string { return string(bytes.ToLower([]byte(s))) }

// recordingScorer remembers the last score set or added per tag.
type recordingScorer struct {
	mu     sync.Mutex
	scores map[string]int
	calls  int
}

func (r *recordingScorer) AddPeerScore(id peer.ID, tag string, diff int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scores == nil {
		r.scores = map[string]int{}
	}
	r.scores[string(id)+" "+tag] += diff
	r.calls++
}

func (r *recordingScorer) SetPeerScore(id peer.ID, tag string, val int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scores == nil {
		r.scores = map[string]int{}
	}
	r.scores[string(id)+" "+tag] = val
	r.calls++
}

func (r *recordingScorer) score(id peer.ID, tag string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.scores[string(id)+" "+tag]
}

func storeOf(t testing.TB, orders []*zeroex.SignedOrder) *orderstore.Memory {
	t.Helper()
	m := orderstore.NewMemory()
	if _, err := m.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	return m
}

// counts are what the pipeline reported to a recorder.
type counts struct {
	Malformed, OutOfRange, BadSignature, UnverifiableSignature, FilterMismatch, New int
}

// recorder is a MetricsTracer that adds up the pipeline's reports.
type recorder struct {
	ordersync.NoopMetricsTracer
	mu sync.Mutex
	c  counts
}

// recordOn makes p report to a new recorder.
func recordOn(p *Pager) *recorder {
	r := &recorder{}
	p.ReportMetricsTo(r)
	return r
}

func (r *recorder) OrdersRejected(_ peer.ID, reason ordersync.RejectReason, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	field := map[ordersync.RejectReason]*int{
		ordersync.RejectMalformed:             &r.c.Malformed,
		ordersync.RejectOutOfRange:            &r.c.OutOfRange,
		ordersync.RejectBadSignature:          &r.c.BadSignature,
		ordersync.RejectUnverifiableSignature: &r.c.UnverifiableSignature,
		ordersync.RejectFilterMismatch:        &r.c.FilterMismatch,
	}[reason]
	*field += n
}

func (r *recorder) OrdersStored(_ peer.ID, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.c.New += n
}

func (r *recorder) counts() counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c
}
