package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
)

// monitorFlags are the --metrics and --pprof flags of the commands that run
// for a while (serve, and any long-running command: call addMonitorFlags
// on its flag set, then startMonitor).
type monitorFlags struct {
	metrics, pprof string
}

// addMonitorFlags defines --metrics and --pprof on fs.
func addMonitorFlags(fs *flag.FlagSet) *monitorFlags {
	m := &monitorFlags{}
	fs.StringVar(&m.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (host:port; port 0 picks one); default off")
	fs.StringVar(&m.pprof, "pprof", "", "serve Go's profiler at http://`ADDR`/debug/pprof/ (host:port); default off; keep it on loopback")
	return m
}

// check refuses addresses that cannot be listened on.
func (m *monitorFlags) check() error {
	for _, f := range []struct{ name, addr string }{{"--metrics", m.metrics}, {"--pprof", m.pprof}} {
		if f.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			return cli.Usagef("%s %q: want host:port: %v", f.name, f.addr, err)
		}
	}
	return nil
}

// monitor is what startMonitor started.
type monitor struct {
	// tracer is the Prometheus tracer to give the command's Service (nil
	// without --metrics).
	tracer  ordersync.MetricsTracer
	servers []*http.Server
	stderr  io.Writer
}

// startMonitor starts the HTTP servers the flags ask for and says where on
// stderr ("serve: metrics on http://127.0.0.1:9090/metrics"), so that a
// port 0 can be found. The metrics are those of prometheus.DefaultRegisterer:
// ordersync's tracer, libp2p's own and the Go runtime's. Close the monitor
// when done.
func startMonitor(command string, m *monitorFlags, stderr io.Writer) (*monitor, error) {
	mon := &monitor{stderr: stderr}
	if m.metrics != "" {
		mon.tracer = ordersync.NewMetricsTracer(ordersync.WithRegisterer(prometheus.DefaultRegisterer))
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.Handler())
		addr, err := mon.serve(m.metrics, mux)
		if err != nil {
			return nil, fmt.Errorf("--metrics: %w", err)
		}
		fmt.Fprintf(stderr, "%s: metrics on http://%s/metrics\n", command, addr)
	}
	if m.pprof != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		addr, err := mon.serve(m.pprof, mux)
		if err != nil {
			mon.Close()
			return nil, fmt.Errorf("--pprof: %w", err)
		}
		fmt.Fprintf(stderr, "%s: profiler on http://%s/debug/pprof/\n", command, addr)
	}
	return mon, nil
}

// serve listens on addr (so that a busy port fails at once) and serves h
// there in the background. It returns the address listened on.
func (mon *monitor) serve(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	mon.servers = append(mon.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(mon.stderr, "ordersync: monitor on %s: %v\n", ln.Addr(), err)
		}
	}()
	return ln.Addr().String(), nil
}

// options are the Service options the monitor asks for.
func (mon *monitor) options() []ordersync.Option {
	if mon.tracer == nil {
		return nil
	}
	return []ordersync.Option{ordersync.WithMetricsTracer(mon.tracer)}
}

// Close stops the servers, letting requests under way finish for a moment.
func (mon *monitor) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, srv := range mon.servers {
		_ = srv.Shutdown(ctx)
	}
}
