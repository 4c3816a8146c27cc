// Package testnet starts small networks of real go-libp2p hosts on loopback
// for tests: TCP, the default security (noise or TLS) and yamux, like a real
// node, each host with a real connection manager so that peer-score tags
// can be read back with h.ConnManager().GetTagInfo(p). The hosts are
// internal/p2phost's loopback hosts, which the ordersync command's demo
// and bench start without this package (and so without testing).
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package testnet

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/testing/leakcheck"
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
// manager (see p2phost.Loopback), closed in t.Cleanup. Extra go-libp2p
// options come last. It returns once the host has started all its
// goroutines, so that a leak check's baseline taken afterwards holds them
// all (see leakcheck).
func NewHost(t testing.TB, extra ...libp2p.Option) host.Host {
	t.Helper()
	return NewHostWith(t, p2phost.WithLibp2pOptions(extra...))
}

// NewHostWith is NewHost with p2phost options, which come after Loopback.
func NewHostWith(t testing.TB, opts ...p2phost.Option) host.Host {
	t.Helper()
	inner, err := p2phost.New(append([]p2phost.Option{p2phost.Loopback()}, opts...)...)
	if err != nil {
		t.Fatalf("testnet: %v", err)
	}
	h := newProtocolHost(inner)
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Logf("testnet: closing host %s: %v", h.ID(), err)
		}
	})
	leakcheck.WaitHostsStarted(t)
	return h
}

// Connect connects a to b and waits until both sides see the connection.
func Connect(t testing.TB, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), p2phost.ConnectTimeout)
	defer cancel()
	if err := p2phost.Connect(ctx, a, b); err != nil {
		t.Fatalf("testnet: %v", err)
	}
	// The dialer sees the connection as soon as Connect returns; the
	// listener may register it a moment later. Wait on its event bus
	// rather than polling.
	waitConnected(t, ctx, b, a.ID())
}
