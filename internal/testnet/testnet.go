// Package testnet starts small networks of real go-libp2p hosts on loopback
// for tests: TCP, the default security (noise or TLS) and yamux, like a real
// node, each host with a real connection manager so that peer-score tags
// can be read back with h.ConnManager().GetTagInfo(p). NewLoopbackHost,
// which takes no testing.TB, starts the same host for programs (the
// ordersync command's demo and bench).
package testnet

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/ordersync/ordersync/internal/leakcheck"
)

// Option changes how New builds a network.
type Option func(*config)

type config struct {
	connect   bool
	extraOpts []libp2p.Option
}

// WithoutConnecting leaves the hosts unconnected; connect chosen pairs with
// Connect.
func WithoutConnecting() Option {
	return func(c *config) { c.connect = false }
}

// WithLibp2pOptions adds go-libp2p options to every host, after the ones
// testnet sets (so they win where both set the same thing).
func WithLibp2pOptions(opts ...libp2p.Option) Option {
	return func(c *config) { c.extraOpts = append(c.extraOpts, opts...) }
}

// New starts n hosts listening on 127.0.0.1 and, unless WithoutConnecting is
// given, connects every pair. Every host is closed in t.Cleanup.
func New(t testing.TB, n int, opts ...Option) []host.Host {
	t.Helper()
	cfg := config{connect: true}
	for _, o := range opts {
		o(&cfg)
	}
	hosts := make([]host.Host, n)
	for i := range hosts {
		hosts[i] = NewHost(t, cfg.extraOpts...)
	}
	if cfg.connect {
		for i := range hosts {
			for j := i + 1; j < len(hosts); j++ {
				Connect(t, hosts[i], hosts[j])
			}
		}
	}
	return hosts
}

// NewHost starts one host listening on 127.0.0.1 with a real connection
// manager (see NewLoopbackHost), closed in t.Cleanup. Extra go-libp2p
// options come last. It returns once the host has started all its
// goroutines, so that a leak check's baseline taken afterwards holds them
// all (see leakcheck).
func NewHost(t testing.TB, extra ...libp2p.Option) host.Host {
	t.Helper()
	h, err := NewLoopbackHost(extra...)
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Logf("testnet: closing host %s: %v", h.ID(), err)
		}
	})
	leakcheck.WaitHostsStarted(t)
	return h
}

// NewLoopbackHost starts one host listening on 127.0.0.1 the way a node
// runs one: TCP, go-libp2p's default security and muxer, and a real
// connection manager, so that peer scores land somewhere, which never trims
// a connection. Extra go-libp2p options come last. It is for programs too
// (the ordersync demo and bench); the caller closes the host.
func NewLoopbackHost(extra ...libp2p.Option) (host.Host, error) {
	// Watermarks far above any test's or demo's peer count and a long grace
	// period: the manager must only keep tags, never trim a connection.
	cm, err := connmgr.NewConnManager(1000, 2000, connmgr.WithGracePeriod(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		// TCP only: QUIC and WebSocket listeners would only slow start-up.
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ConnectionManager(cm),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.Ping(false),
	}
	h, err := libp2p.New(append(opts, extra...)...)
	if err != nil {
		_ = cm.Close()
		return nil, fmt.Errorf("libp2p host on 127.0.0.1: %w", err)
	}
	return h, nil
}

// Connect connects a to b and waits until both sides see the connection.
func Connect(t testing.TB, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := ConnectHosts(ctx, a, b); err != nil {
		t.Fatalf("testnet: %v", err)
	}
	// The dialer sees the connection as soon as Connect returns; the
	// listener may register it a moment later. Wait on its event bus
	// rather than polling.
	waitConnected(t, ctx, b, a.ID())
}

// connectTimeout bounds a dial between two loopback hosts.
const connectTimeout = 10 * time.Second

// ConnectHosts dials b from a at b's listen addresses, giving up after 10 s
// or when ctx ends. It is Connect for programs: it does not wait for b to
// see the connection.
func ConnectHosts(ctx context.Context, a, b host.Host) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		return fmt.Errorf("connect %s to %s: %w", a.ID(), b.ID(), err)
	}
	return nil
}
