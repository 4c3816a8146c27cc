package ordersync

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// metricNamespace prefixes every series; docs/metrics.md lists them.
const metricNamespace = "ordersync"

// Histogram buckets, in seconds: a page's round trip or answer from 1 ms
// to about 33 s (the message timeout is 30 s), a whole sync from 10 ms to
// about 5.5 min.
var (
	requestBuckets = prometheus.ExponentialBuckets(0.001, 2, 16)
	syncBuckets    = prometheus.ExponentialBuckets(0.01, 2, 16)
)

// MetricsTracerOption configures NewMetricsTracer.
type MetricsTracerOption func(*metricsTracerSettings)

type metricsTracerSettings struct {
	reg prometheus.Registerer
}

// WithRegisterer makes NewMetricsTracer register its collectors with reg.
// Default prometheus.DefaultRegisterer; nil means the default.
func WithRegisterer(reg prometheus.Registerer) MetricsTracerOption {
	return func(s *metricsTracerSettings) {
		if reg != nil {
			s.reg = reg
		}
	}
}

// NewMetricsTracer returns a MetricsTracer that exports the ordersync_*
// Prometheus series listed in docs/metrics.md:
//
//	ordersync_syncs_total{subprotocol,result}          counter
//	ordersync_sync_duration_seconds                    histogram
//	ordersync_get_orders_total{result}                 counter
//	ordersync_requests_total{role,subprotocol}         counter
//	ordersync_request_duration_seconds{role}           histogram
//	ordersync_orders_received_total                    counter
//	ordersync_orders_accepted_total                    counter
//	ordersync_orders_new_total                         counter
//	ordersync_orders_rejected_total{reason}            counter
//	ordersync_orders_sent_total                        counter
//	ordersync_bytes_total{role,direction}              counter
//	ordersync_streams_rejected_total{reason}           counter
//	ordersync_streams_active{role}                     gauge
//	ordersync_reconciliation_rounds_total{role,subprotocol}       counter
//	ordersync_reconciliation_differences_total{role,subprotocol}  counter
//
// No label holds a peer ID. Labels take values from fixed lists (Role,
// SyncResult, RejectReason, StreamRejectReason, direction "in" or "out")
// or are the names of the Service's own subprotocols.
//
// The collectors are registered once per registerer: a second tracer on
// the same registerer (a second Service in the process, say) adds to the
// first one's series rather than panic. One tracer may also serve any
// number of Services. NewMetricsTracer panics if the registerer refuses
// the collectors for another reason (a different collector under one of
// these names).
func NewMetricsTracer(opts ...MetricsTracerOption) MetricsTracer {
	settings := metricsTracerSettings{reg: prometheus.DefaultRegisterer}
	for _, opt := range opts {
		opt(&settings)
	}
	return newPrometheusTracer(settings.reg)
}

// prometheusTracer is NewMetricsTracer's tracer.
type prometheusTracer struct {
	syncs            *prometheus.CounterVec
	syncDuration     prometheus.Histogram
	getOrders        *prometheus.CounterVec
	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	ordersReceived   prometheus.Counter
	ordersAccepted   prometheus.Counter
	ordersNew        prometheus.Counter
	ordersRejected   *prometheus.CounterVec
	ordersSent       prometheus.Counter
	bytes            *prometheus.CounterVec
	streamsRejected  *prometheus.CounterVec
	streamsActive    *prometheus.GaugeVec
	reconRounds      *prometheus.CounterVec
	reconDifferences *prometheus.CounterVec

	// Children of fixed label values, looked up once.
	bytesIn, bytesOut   [2]prometheus.Counter // by roleIndex
	requestRoundTrip    [2]prometheus.Observer
	active              [2]prometheus.Gauge
	rejectedByReason    map[RejectReason]prometheus.Counter
	streamRejectedByWhy map[StreamRejectReason]prometheus.Counter
}

var _ MetricsTracer = (*prometheusTracer)(nil)

func newPrometheusTracer(reg prometheus.Registerer) *prometheusTracer {
	counter := func(name, help string) prometheus.Counter {
		return registerOnce(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: metricNamespace, Name: name, Help: help}))
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return registerOnce(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricNamespace, Name: name, Help: help}, labels))
	}
	t := &prometheusTracer{
		syncs: counterVec("syncs_total", "Syncs with one provider, as a requester, by the subprotocol the provider chose and how they ended.", "subprotocol", "result"),
		syncDuration: registerOnce(reg, prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metricNamespace, Name: "sync_duration_seconds",
			Help: "How long a sync with one provider took, as a requester.", Buckets: syncBuckets})),
		getOrders: counterVec("get_orders_total", "Calls of GetOrders (also those of PeriodicallyGetOrders) by how they returned.", "result"),
		requests:  counterVec("requests_total", "Requests: pages taken in as a requester, responses written as a provider.", "role", "subprotocol"),
		requestDuration: registerOnce(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: metricNamespace, Name: "request_duration_seconds",
			Help: "A page's round trip for a requester; the time to answer a request for a provider.", Buckets: requestBuckets}, []string{"role"})),
		ordersReceived:   counter("orders_received_total", "Orders in the pages requesters took in."),
		ordersAccepted:   counter("orders_accepted_total", "Received orders that passed every check."),
		ordersNew:        counter("orders_new_total", "Accepted orders that the store did not hold yet."),
		ordersRejected:   counterVec("orders_rejected_total", "Received orders dropped, by the first check they failed.", "reason"),
		ordersSent:       counter("orders_sent_total", "Orders in the responses providers wrote."),
		bytes:            counterVec("bytes_total", "Ordersync stream bytes, by role and direction (in: read, out: written).", "role", "direction"),
		streamsRejected:  counterVec("streams_rejected_total", "Inbound streams a provider turned away or cut off, by reason.", "reason"),
		reconRounds:      counterVec("reconciliation_rounds_total", "Rounds of set-reconciliation subprotocols.", "role", "subprotocol"),
		reconDifferences: counterVec("reconciliation_differences_total", "Orders that set-reconciliation rounds found one side lacking.", "role", "subprotocol"),
		streamsActive: registerOnce(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricNamespace, Name: "streams_active",
			Help: "Ordersync streams open now, by role."}, []string{"role"})),
		rejectedByReason:    make(map[RejectReason]prometheus.Counter, len(rejectReasons)),
		streamRejectedByWhy: make(map[StreamRejectReason]prometheus.Counter, len(streamRejectReasons)),
	}
	for i, role := range []Role{RoleRequester, RoleProvider} {
		t.bytesIn[i] = t.bytes.WithLabelValues(string(role), "in")
		t.bytesOut[i] = t.bytes.WithLabelValues(string(role), "out")
		t.requestRoundTrip[i] = t.requestDuration.WithLabelValues(string(role))
		t.active[i] = t.streamsActive.WithLabelValues(string(role))
	}
	for _, r := range rejectReasons {
		t.rejectedByReason[r] = t.ordersRejected.WithLabelValues(string(r))
	}
	for _, r := range streamRejectReasons {
		t.streamRejectedByWhy[r] = t.streamsRejected.WithLabelValues(string(r))
	}
	return t
}

// registerOnce registers c with reg, or returns the collector of the same
// description that reg already holds.
func registerOnce[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Sprintf("ordersync: NewMetricsTracer: registering metrics: %v", err))
}

// roleIndex is r's index in the per-role arrays; a role that is neither
// (from a subprotocol's mistake) counts as a requester's.
func roleIndex(r Role) int {
	if r == RoleProvider {
		return 1
	}
	return 0
}

// roleLabel is r as a label value from the fixed list.
func roleLabel(r Role) string { return string([...]Role{RoleRequester, RoleProvider}[roleIndex(r)]) }

// subprotocolLabel is the subprotocol label of a sync whose provider never
// chose one.
func subprotocolLabel(name string) string {
	if name == "" {
		return "none"
	}
	return name
}

func (t *prometheusTracer) SyncEnded(_ peer.ID, subprotocol string, result SyncResult, d time.Duration, _ error) {
	t.syncs.WithLabelValues(subprotocolLabel(subprotocol), string(result)).Inc()
	t.syncDuration.Observe(d.Seconds())
}

func (t *prometheusTracer) PageReceived(_ peer.ID, subprotocol string, roundTrip time.Duration, orders, accepted int) {
	t.requests.WithLabelValues(string(RoleRequester), subprotocol).Inc()
	t.requestRoundTrip[0].Observe(roundTrip.Seconds())
	t.ordersReceived.Add(float64(orders))
	t.ordersAccepted.Add(float64(accepted))
}

func (t *prometheusTracer) OrdersRejected(_ peer.ID, reason RejectReason, n int) {
	t.rejectedByReason[knownReason(reason)].Add(float64(n))
}

func (t *prometheusTracer) OrdersStored(_ peer.ID, n int) { t.ordersNew.Add(float64(n)) }

func (t *prometheusTracer) GetOrdersEnded(_, _ int, _ time.Duration, err error) {
	t.getOrders.WithLabelValues(getOrdersResult(err)).Inc()
}

// getOrdersResult classifies what GetOrders returned.
func getOrdersResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNoOrders):
		return "no_orders"
	case errors.Is(err, ErrTooFewPeers):
		return "too_few_peers"
	case errors.Is(err, ErrInvalidMinPeers):
		return "invalid"
	}
	return "canceled"
}

func (t *prometheusTracer) RequestServed(_ peer.ID, subprotocol string, d time.Duration, orders int) {
	t.requests.WithLabelValues(string(RoleProvider), subprotocol).Inc()
	t.requestRoundTrip[1].Observe(d.Seconds())
	t.ordersSent.Add(float64(orders))
}

func (t *prometheusTracer) StreamRejected(_ peer.ID, reason StreamRejectReason) {
	if c, ok := t.streamRejectedByWhy[reason]; ok {
		c.Inc()
	}
}

func (t *prometheusTracer) StreamOpened(role Role) { t.active[roleIndex(role)].Inc() }
func (t *prometheusTracer) StreamClosed(role Role) { t.active[roleIndex(role)].Dec() }

func (t *prometheusTracer) BytesRead(role Role, _ peer.ID, n int) {
	t.bytesIn[roleIndex(role)].Add(float64(n))
}

func (t *prometheusTracer) BytesWritten(role Role, _ peer.ID, n int) {
	t.bytesOut[roleIndex(role)].Add(float64(n))
}

func (t *prometheusTracer) ReconciliationRound(_ peer.ID, role Role, subprotocol string, differences int) {
	t.reconRounds.WithLabelValues(roleLabel(role), subprotocol).Inc()
	if differences > 0 {
		t.reconDifferences.WithLabelValues(roleLabel(role), subprotocol).Add(float64(differences))
	}
}
