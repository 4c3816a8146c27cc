package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/proctest"
)

// monitoredServer is "ordersync serve --metrics 127.0.0.1:0 --pprof
// 127.0.0.1:0" as a process: its libp2p address and the URLs it printed.
type monitoredServer struct {
	cmd                  *exec.Cmd
	addr                 string
	metricsURL, pprofURL string
}

var monitorLine = regexp.MustCompile(`^serve: (metrics|profiler) on (http://\S+)$`)

func startMonitoredServer(t *testing.T, bin string, args ...string) *monitoredServer {
	t.Helper()
	s := &monitoredServer{cmd: proctest.Command(bin, append([]string{"serve", "--metrics", "127.0.0.1:0", "--pprof", "127.0.0.1:0"}, args...)...)}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	addrs, monitors := make(chan string, 1), make(chan []string, 2)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case addrs <- sc.Text():
			default: // further addresses
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := monitorLine.FindStringSubmatch(sc.Text()); m != nil {
				monitors <- m[1:]
			}
		}
	}()
	deadline := time.After(proctest.Timeout)
	for s.addr == "" || s.metricsURL == "" || s.pprofURL == "" {
		select {
		case s.addr = <-addrs:
		case m := <-monitors:
			if m[0] == "metrics" {
				s.metricsURL = m[1]
			} else {
				s.pprofURL = m[1]
			}
		case <-deadline:
			t.Fatalf("serve did not print its addresses: libp2p %q, metrics %q, profiler %q", s.addr, s.metricsURL, s.pprofURL)
		}
	}
	return s
}

// scrape gets url and parses it as Prometheus' text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return families
}

// scrapeUntil scrapes url until done says the families are complete, for
// at most processTimeout.
func scrapeUntil(t *testing.T, url string, done func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(proctest.Timeout)
	for {
		families := scrape(t, url)
		if done(families) || time.Now().After(deadline) {
			return families
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sample is the value of the series of family name with the label pairs
// given (a histogram's count), and whether it is there.
func sample(families map[string]*dto.MetricFamily, name string, pairs ...string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := len(labels)*2 == len(pairs)
		for i := 0; match && i < len(pairs); i += 2 {
			match = labels[pairs[i]] == pairs[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// "serve --metrics" serves the ordersync series on /metrics, a sync
// against it moves them by what the sync's own summary says, and
// "--pprof" serves the profiler on a port of its own.
func TestServeMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	ordersPath := filepath.Join(dir, "orders.jsonl")
	if _, err := cli.WriteOrderFile(ordersPath, slices.Values(ordergen.Generate(ordergen.Options{Seed: 43, Count: 200}))); err != nil {
		t.Fatal(err)
	}
	srv := startMonitoredServer(t, bin, "--orders", ordersPath, "--per-page", "40")

	before := scrape(t, srv.metricsURL)
	const v1 = "/pagination-with-filter/version/1"
	for _, name := range []string{"ordersync_streams_active", "ordersync_bytes_total", "ordersync_orders_rejected_total", "ordersync_streams_rejected_total", "go_goroutines"} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics before any sync lacks %s", name)
		}
	}
	if v, _ := sample(before, "ordersync_orders_sent_total"); v != 0 {
		t.Errorf("orders sent before any sync: %v", v)
	}

	// v1, whose requests this test counts (reconcile would page the same).
	res := runBinary(t, bin, "sync", "--peer", srv.addr, "--subprotocols", "filtered-pagination", "--out", filepath.Join(t.TempDir(), "got.jsonl"))
	if res.code != 0 {
		t.Fatalf("sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	m := regexp.MustCompile(`accepted (\d+) orders .* (\d+) bytes received`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("sync's summary: %s", res.stdout)
	}
	accepted, _ := strconv.ParseFloat(m[1], 64)
	received, _ := strconv.ParseFloat(m[2], 64)

	// The provider counts a response once it is written, so the last one
	// may be counted a moment after the sync read it.
	after := scrapeUntil(t, srv.metricsURL, func(f map[string]*dto.MetricFamily) bool {
		v, _ := sample(f, "ordersync_requests_total", "role", "provider", "subprotocol", v1)
		return v >= 200/40+1
	})
	for _, c := range []struct {
		name  string
		pairs []string
		want  float64
	}{
		{"ordersync_orders_sent_total", nil, 200},
		{"ordersync_requests_total", []string{"role", "provider", "subprotocol", v1}, 200/40 + 1},
		{"ordersync_request_duration_seconds", []string{"role", "provider"}, 200/40 + 1},
		{"ordersync_streams_rejected_total", []string{"reason", "rate_limit"}, 0},
		{"ordersync_orders_received_total", nil, 0}, // serve only serves
	} {
		if got, ok := sample(after, c.name, c.pairs...); !ok || got != c.want {
			t.Errorf("after the sync: %s%v = %v (present %v), want %v", c.name, c.pairs, got, ok, c.want)
		}
	}
	if accepted != 200 {
		t.Errorf("sync accepted %v orders, want 200", accepted)
	}
	// What the provider wrote the requester read, but for the newline
	// after the last message.
	if out, _ := sample(after, "ordersync_bytes_total", "role", "provider", "direction", "out"); out-received < 0 || out-received > 1 {
		t.Errorf("provider wrote %v bytes, sync's summary says it received %v", out, received)
	}

	resp, err := http.Get(srv.pprofURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET %s: %s\n%s", srv.pprofURL, resp.Status, body)
	}
	if resp, err := http.Get(strings.TrimSuffix(srv.metricsURL, "/metrics") + "/debug/pprof/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the metrics port serves the profiler too: %s", resp.Status)
		}
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// serve and node take --metrics and --pprof, and refuse an address that is
// not host:port before doing anything.
func TestMonitorFlags(t *testing.T) {
	var stderr strings.Builder
	cfg, err := parseNodeFlags([]string{"--metrics", "127.0.0.1:9090", "--pprof", "127.0.0.1:6060"}, &stderr)
	if err != nil || cfg.monitor.metrics != "127.0.0.1:9090" || cfg.monitor.pprof != "127.0.0.1:6060" {
		t.Fatalf("node: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{{"--orders", "x", "--metrics", "9090"}, {"--orders", "x", "--pprof", "localhost"}} {
		if _, err := parseServeFlags(args, &stderr); !cli.IsUsageError(err) || !strings.Contains(err.Error(), "want host:port") {
			t.Errorf("serve %q: %v, want a usage error", args, err)
		}
	}
	if _, err := parseNodeFlags([]string{"--metrics", "nope"}, &stderr); !cli.IsUsageError(err) {
		t.Errorf("node --metrics nope: %v, want a usage error", err)
	}
}
