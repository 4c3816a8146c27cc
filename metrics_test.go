package ordersync_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// series reads one sample of a gathered registry: a counter's or gauge's
// value, or a histogram's count of observations; 0 when absent.
func series(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	return 0
}

// hasLabels says whether m has exactly the label pairs name, value, ...
func hasLabels(m *dto.Metric, pairs []string) bool {
	if len(m.GetLabel())*2 != len(pairs) {
		return false
	}
	for i := 0; i < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// metricsNode is a host with a Service speaking filteredpagination and a
// Prometheus tracer on reg.
type metricsNode struct {
	host    host.Host
	store   *orderstore.Memory
	service *ordersync.Service
	served  chan struct{} // one value each time its stream handler returns
}

// servedNode tells when the Service's stream handler has returned from a
// stream: by then the provider has counted everything of that stream.
type servedNode struct {
	ordersync.Node
	served chan struct{}
}

func (n servedNode) SetStreamHandler(id protocol.ID, h network.StreamHandler) {
	n.Node.SetStreamHandler(id, func(s network.Stream) {
		h(s)
		n.served <- struct{}{}
	})
}

// waitServed waits until the node's handler has returned from n streams.
func (m *metricsNode) waitServed(t *testing.T, n int) {
	t.Helper()
	guard := time.NewTimer(time.Minute)
	defer guard.Stop()
	for range n {
		select {
		case <-m.served:
		case <-guard.C:
			t.Fatal("the provider did not finish serving its streams within a minute")
		}
	}
}

func startMetricsNode(t *testing.T, h host.Host, reg prometheus.Registerer, orders []*zeroex.SignedOrder, filter *orderfilter.Filter, opts ...ordersync.Option) *metricsNode {
	t.Helper()
	n := &metricsNode{host: h, store: orderstore.NewMemory(), served: make(chan struct{}, 64)}
	if _, err := n.store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	node := servedNode{Node: ordersync.NewHostNode(h), served: n.served}
	var sub ordersync.Subprotocol = filteredpagination.New(n.store, filter, pagination.WithPerPage(100), pagination.WithPeerScorer(node))
	if len(orders) > 0 {
		sub = filterBlind{sub} // a provider that serves every order it holds
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts = append([]ordersync.Option{
		ordersync.WithRateLimit(rate.Inf, 1),
		ordersync.WithPeerRateLimit(rate.Inf, 1),
		ordersync.WithMetricsTracer(ordersync.NewMetricsTracer(ordersync.WithRegisterer(reg))),
		// One lane: the counts below are one lane's pages.
		ordersync.WithLanes(1),
	}, opts...)
	n.service = ordersync.New(ctx, node, []ordersync.Subprotocol{sub}, opts...)
	return n
}

// filterBlind is a provider that ignores the requester's filter, as one
// that does not check it would.
type filterBlind struct{ ordersync.Subprotocol }

func (f filterBlind) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if md, ok := req.Metadata.(*filteredpagination.RequestMetadata); ok && md.OrderFilter != nil {
		blind := *md
		blind.OrderFilter = nil
		req = &ordersync.Request{RequesterID: req.RequesterID, Metadata: &blind}
	}
	return f.Subprotocol.HandleOrderSyncRequest(ctx, req)
}

// spoiledSignatures returns orders with every k-th signature changed, and
// the indices changed.
func spoiledSignatures(orders []*zeroex.SignedOrder, k int) ([]*zeroex.SignedOrder, map[int]bool) {
	out := slices.Clone(orders)
	spoiled := map[int]bool{}
	for i := 0; i < len(out); i += k {
		o := &zeroex.SignedOrder{Order: out[i].Order, Signature: slices.Clone(out[i].Signature)}
		o.ResetHash()
		o.Signature[1] ^= 0xff
		out[i] = o
		spoiled[i] = true
	}
	return out, spoiled
}

// A real sync with known orders: every series of both registries says what
// happened, and Stats says the same.
func TestMetricsCountARealSync(t *testing.T) {
	const total = 1050
	orders, spoiled := spoiledSignatures(ordergen.Generate(ordergen.Options{Seed: 13, Count: total, Makers: 4}), 7)
	banned := orders[1].MakerAddress
	filter, err := orderfilter.New(ordergen.DefaultChainID,
		fmt.Sprintf(`{"not":{"properties":{"makerAddress":{"const":%q}}}}`, strings.ToLower(banned.Hex())), ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	// Signatures are checked before the filter.
	var badSignatures, mismatches, accepted int
	for i, o := range orders {
		switch {
		case spoiled[i]:
			badSignatures++
		case o.MakerAddress == banned:
			mismatches++
		default:
			accepted++
		}
	}
	if badSignatures == 0 || mismatches == 0 || accepted == 0 {
		t.Fatalf("test orders: %d bad, %d mismatched, %d good", badSignatures, mismatches, accepted)
	}

	hosts := testnet.New(t, 2)
	provReg, reqReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	provider := startMetricsNode(t, hosts[1], provReg, orders, nil)
	requester := startMetricsNode(t, hosts[0], reqReg, nil, filter)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := requester.service.GetOrders(ctx, 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if requester.store.Len() != accepted {
		t.Fatalf("requester holds %d orders, want %d", requester.store.Len(), accepted)
	}
	provider.waitServed(t, 1)

	sub := filteredpagination.Name
	pages := total/100 + 2 // full pages, the last partial one, and the empty complete one
	rs, ps := requester.service.Stats(), provider.service.Stats()
	for _, c := range []struct {
		name   string
		reg    prometheus.Gatherer
		labels []string
		want   float64
		stats  int64 // the Stats field that counts the same, -1 if none
	}{
		{"ordersync_syncs_total", reqReg, []string{"subprotocol", sub, "result", "ok"}, 1, rs.SyncsCompleted},
		{"ordersync_sync_duration_seconds", reqReg, nil, 1, rs.SyncsCompleted + rs.SyncsFailed},
		{"ordersync_get_orders_total", reqReg, []string{"result", "ok"}, 1, -1},
		{"ordersync_requests_total", reqReg, []string{"role", "requester", "subprotocol", sub}, float64(pages), rs.PagesReceived},
		{"ordersync_request_duration_seconds", reqReg, []string{"role", "requester"}, float64(pages), rs.PagesReceived},
		{"ordersync_orders_received_total", reqReg, nil, total, rs.OrdersReceived},
		{"ordersync_orders_accepted_total", reqReg, nil, float64(accepted), rs.OrdersAccepted},
		{"ordersync_orders_new_total", reqReg, nil, float64(accepted), rs.OrdersNew},
		{"ordersync_orders_rejected_total", reqReg, []string{"reason", "bad_signature"}, float64(badSignatures), rs.OrdersRejected[ordersync.RejectBadSignature]},
		{"ordersync_orders_rejected_total", reqReg, []string{"reason", "filter_mismatch"}, float64(mismatches), rs.OrdersRejected[ordersync.RejectFilterMismatch]},
		{"ordersync_orders_rejected_total", reqReg, []string{"reason", "malformed"}, 0, rs.OrdersRejected[ordersync.RejectMalformed]},
		{"ordersync_orders_rejected_total", reqReg, []string{"reason", "out_of_range"}, 0, rs.OrdersRejected[ordersync.RejectOutOfRange]},
		{"ordersync_bytes_total", reqReg, []string{"role", "requester", "direction", "in"}, float64(rs.BytesRead), rs.BytesRead},
		{"ordersync_bytes_total", reqReg, []string{"role", "requester", "direction", "out"}, float64(rs.BytesWritten), rs.BytesWritten},
		{"ordersync_bytes_total", reqReg, []string{"role", "provider", "direction", "in"}, 0, -1},
		{"ordersync_streams_active", reqReg, []string{"role", "requester"}, 0, -1},
		{"ordersync_requests_total", reqReg, []string{"role", "provider", "subprotocol", sub}, 0, rs.RequestsServed},

		{"ordersync_requests_total", provReg, []string{"role", "provider", "subprotocol", sub}, float64(pages), ps.RequestsServed},
		{"ordersync_request_duration_seconds", provReg, []string{"role", "provider"}, float64(pages), ps.RequestsServed},
		{"ordersync_orders_sent_total", provReg, nil, total, ps.OrdersSent},
		{"ordersync_bytes_total", provReg, []string{"role", "provider", "direction", "out"}, float64(ps.BytesWritten), ps.BytesWritten},
		{"ordersync_bytes_total", provReg, []string{"role", "provider", "direction", "in"}, float64(ps.BytesRead), ps.BytesRead},
		{"ordersync_orders_received_total", provReg, nil, 0, ps.OrdersReceived},
		{"ordersync_syncs_total", provReg, []string{"subprotocol", sub, "result", "ok"}, 0, ps.SyncsCompleted},
	} {
		got := series(t, c.reg, c.name, c.labels...)
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
		if c.stats >= 0 && float64(c.stats) != got {
			t.Errorf("%s%v = %v, but Stats says %d", c.name, c.labels, got, c.stats)
		}
	}
	// What one side wrote the other read, but for the newline after the
	// last message of the stream, which the reader never needs.
	if d := ps.BytesWritten - rs.BytesRead; d < 0 || d > 1 || rs.BytesRead < 100*total {
		t.Errorf("provider wrote %d bytes, requester read %d", ps.BytesWritten, rs.BytesRead)
	}
	if d := rs.BytesWritten - ps.BytesRead; d < 0 || d > 1 || ps.BytesRead == 0 {
		t.Errorf("requester wrote %d bytes, provider read %d", rs.BytesWritten, ps.BytesRead)
	}
	if p := rs.Providers[hosts[1].ID()]; p.Pages != int64(pages) || p.Orders != int64(accepted) || p.BytesReceived != rs.BytesRead {
		t.Errorf("provider stats %+v", p)
	}
	// No label holds a peer ID.
	for _, reg := range []prometheus.Gatherer{reqReg, provReg} {
		families, _ := reg.Gather()
		for _, f := range families {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					for _, h := range hosts {
						if strings.Contains(l.GetValue(), h.ID().String()) {
							t.Errorf("%s has label %s=%s: a peer ID", f.GetName(), l.GetName(), l.GetValue())
						}
					}
				}
			}
		}
	}
}

// activeProbe is a Subprotocol that reads the streams_active gauges of two
// registries while it answers a request, on the provider's side.
type activeProbe struct {
	ordersync.Subprotocol
	t        *testing.T
	req, pro prometheus.Gatherer
	seen     chan [2]float64
}

func (p *activeProbe) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	select {
	case p.seen <- [2]float64{series(p.t, p.req, "ordersync_streams_active", "role", "requester"), series(p.t, p.pro, "ordersync_streams_active", "role", "provider")}:
	default:
	}
	return p.Subprotocol.HandleOrderSyncRequest(ctx, req)
}

// While a request is being answered, each side counts its one stream.
func TestMetricsStreamsActiveDuringASync(t *testing.T) {
	hosts := testnet.New(t, 2)
	provReg, reqReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), ordergen.Generate(ordergen.Options{Seed: 14, Count: 20})); err != nil {
		t.Fatal(err)
	}
	probe := &activeProbe{Subprotocol: filteredpagination.New(store, nil), t: t, req: reqReg, pro: provReg, seen: make(chan [2]float64, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ordersync.New(ctx, ordersync.NewHostNode(hosts[1]), []ordersync.Subprotocol{probe},
		ordersync.WithMetricsTracer(ordersync.NewMetricsTracer(ordersync.WithRegisterer(provReg))))
	requester := startMetricsNode(t, hosts[0], reqReg, nil, nil)
	if err := requester.service.GetOrders(ctx, 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got := <-probe.seen; got != [2]float64{1, 1} {
		t.Errorf("streams active while serving: requester %v, provider %v; want 1 and 1", got[0], got[1])
	}
	if got := series(t, reqReg, "ordersync_streams_active", "role", "requester"); got != 0 {
		t.Errorf("requester streams active after the sync: %v", got)
	}
}

// Streams a provider turns away and streams it cuts off are counted by
// reason, as Stats counts them.
func TestMetricsStreamRejections(t *testing.T) {
	hosts := testnet.New(t, 2)
	reg := prometheus.NewRegistry()
	provider := startMetricsNode(t, hosts[1], reg, ordergen.Generate(ordergen.Options{Seed: 15, Count: 5}), nil,
		ordersync.WithPeerRateLimit(rate.Every(time.Hour), 2), ordersync.WithMaxRequestSize(1024))
	ask := func(request string) error {
		s, err := hosts[0].NewStream(context.Background(), hosts[1].ID(), ordersync.ID)
		if err != nil {
			return err
		}
		defer s.Close()
		if _, err := io.WriteString(s, request); err != nil {
			return err
		}
		_ = s.CloseWrite() // no more requests: the provider closes after its answer
		_, err = io.ReadAll(s)
		return err
	}
	first := `{"type":"Request","subprotocols":["` + filteredpagination.Name + `"],"metadata":null}`
	if err := ask(first); err != nil {
		t.Fatalf("first stream: %v", err)
	}
	if err := ask(`{"type":"Request","padding":"` + strings.Repeat("x", 2048) + `"}`); err == nil {
		t.Fatal("oversized request: stream not reset")
	}
	if err := ask(first); err == nil {
		t.Fatal("stream past the peer's rate limit: not reset")
	}
	st := provider.service.Stats()
	if st.StreamsRejected != 1 || st.StreamsCutOff != 1 {
		t.Errorf("stats: %d rejected, %d cut off; want 1 and 1", st.StreamsRejected, st.StreamsCutOff)
	}
	for _, reason := range ordersync.StreamRejectReasons() {
		want := map[ordersync.StreamRejectReason]float64{ordersync.StreamPeerRateLimit: 1, ordersync.StreamRequestTooLarge: 1}[reason]
		got := series(t, reg, "ordersync_streams_rejected_total", "reason", string(reason))
		if got != want || float64(st.StreamsRejectedBy[reason]) != want {
			t.Errorf("streams rejected for %s: series %v, Stats %d; want %v", reason, got, st.StreamsRejectedBy[reason], want)
		}
	}
}

// Two Services in one process, each with a tracer of its own on the same
// registry: no registration panic, and one set of series with both in it.
func TestMetricsTwoServicesShareARegistry(t *testing.T) {
	hosts := testnet.New(t, 3)
	shared, reqReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	a := ordergen.Generate(ordergen.Options{Seed: 16, Count: 150})
	b := ordergen.Generate(ordergen.Options{Seed: 17, Count: 250})
	pa := startMetricsNode(t, hosts[1], shared, a, nil)
	pb := startMetricsNode(t, hosts[2], shared, b, nil)
	requester := startMetricsNode(t, hosts[0], reqReg, nil, nil)
	// The default registerer takes the collectors once too, however many
	// tracers ask.
	ordersync.NewMetricsTracer()
	ordersync.NewMetricsTracer(ordersync.WithRegisterer(prometheus.DefaultRegisterer))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := requester.service.GetOrders(ctx, 2); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	pa.waitServed(t, 1)
	pb.waitServed(t, 1)
	if got := series(t, shared, "ordersync_orders_sent_total"); got != 400 {
		t.Errorf("orders sent by both providers: %v, want 400", got)
	}
	// 150 in 2 full pages, 250 in 3, plus an empty complete page each.
	if got := series(t, shared, "ordersync_requests_total", "role", "provider", "subprotocol", filteredpagination.Name); got != 3+4 {
		t.Errorf("requests served by both providers: %v, want 7", got)
	}
	if got := series(t, reqReg, "ordersync_syncs_total", "subprotocol", filteredpagination.Name, "result", "ok"); got != 2 {
		t.Errorf("syncs: %v, want 2", got)
	}
}
