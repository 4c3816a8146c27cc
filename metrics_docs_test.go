package ordersync_test

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ordersync/ordersync"
)

// exportedSeries calls every event of a Prometheus tracer on a fresh
// registry once and returns the names a query can use: each family's, and
// for histograms their _bucket, _sum and _count.
func exportedSeries(t *testing.T) (names map[string]bool, families []string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	tr := ordersync.NewMetricsTracer(ordersync.WithRegisterer(reg))
	tr.SyncEnded("p", "/s", ordersync.SyncOK, time.Second, nil)
	tr.PageReceived("p", "/s", time.Millisecond, 10, 9)
	tr.OrdersRejected("p", ordersync.RejectBadSignature, 1)
	tr.OrdersStored("p", 9)
	tr.GetOrdersEnded(1, 1, time.Second, errors.New("x"))
	tr.RequestServed("p", "/s", time.Millisecond, 10)
	tr.StreamRejected("p", ordersync.StreamRateLimit)
	tr.StreamOpened(ordersync.RoleProvider)
	tr.StreamClosed(ordersync.RoleProvider)
	tr.BytesRead(ordersync.RoleRequester, "p", 100)
	tr.BytesWritten(ordersync.RoleRequester, "p", 100)
	tr.ReconciliationRound("p", ordersync.RoleRequester, "/s", 3)
	gathered, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names = map[string]bool{}
	for _, f := range gathered {
		families = append(families, f.GetName())
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+suffix] = true
			}
		}
	}
	return names, families
}

// queries returns every string of the dashboard that Prometheus evaluates:
// the targets' expressions and the variables' queries.
func queries(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
				out = append(out, s)
			} else {
				out = append(out, queries(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, queries(x)...)
		}
	}
	return out
}

// Every series the Grafana dashboard queries is one the tracer exports, and
// every series the tracer exports is documented in docs/metrics.md and in
// NewMetricsTracer's doc comment, and shown on the dashboard.
func TestGrafanaDashboardQueriesExistingSeries(t *testing.T) {
	names, families := exportedSeries(t)
	if len(families) < 15 {
		t.Fatalf("the tracer exports %d families: %v", len(families), families)
	}
	raw, err := os.ReadFile("docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	metric := regexp.MustCompile(`\bordersync_[a-z0-9_]+`)
	queried := map[string]bool{}
	exprs := queries(dashboard)
	if len(exprs) < 10 {
		t.Fatalf("the dashboard has %d queries", len(exprs))
	}
	for _, q := range exprs {
		for _, name := range metric.FindAllString(q, -1) {
			if !names[name] {
				t.Errorf("the dashboard queries %s, which the tracer does not export: %s", name, q)
			}
			queried[strings.TrimSuffix(name, "_bucket")] = true
		}
	}
	doc, err := os.ReadFile("docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("metrics_prometheus.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if !strings.Contains(string(doc), "`"+f+"`") {
			t.Errorf("docs/metrics.md does not list %s", f)
		}
		if !regexp.MustCompile(`(?m)^//\t` + f + `\b`).Match(source) {
			t.Errorf("NewMetricsTracer's doc comment does not list %s", f)
		}
		if !queried[f] {
			t.Errorf("the dashboard does not show %s", f)
		}
	}
}
