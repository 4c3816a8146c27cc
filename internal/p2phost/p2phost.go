// Package p2phost builds the libp2p hosts of the ordersync command: a node
// with go-libp2p's defaults for serve and sync, and a TCP host on
// 127.0.0.1 for the demo and the bench. It does not import testing, so
// that the command does not link it; testing/testnet wraps it for tests.
package p2phost

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Option changes the host New builds.
type Option func(*config)

type config struct {
	key      crypto.PrivKey
	listen   []ma.Multiaddr
	loopback bool
	extra    []libp2p.Option
	window   uint32
}

// WithIdentity gives the host key's identity instead of a fresh one.
func WithIdentity(key crypto.PrivKey) Option {
	return func(c *config) { c.key = key }
}

// ListenOn makes the host listen on addrs. Without it (and without
// Loopback) the host only dials out.
func ListenOn(addrs ...ma.Multiaddr) Option {
	return func(c *config) { c.listen = append(c.listen, addrs...) }
}

// Loopback makes the host the one the demo, the bench and the tests run:
// TCP only, listening on a free port of 127.0.0.1, with a connection
// manager that keeps peer-score tags (read them back with
// h.ConnManager().GetTagInfo) and never trims a connection.
func Loopback() Option {
	return func(c *config) { c.loopback = true }
}

// WithLibp2pOptions adds go-libp2p options after the ones New sets, so that
// they win where both set the same thing.
func WithLibp2pOptions(opts ...libp2p.Option) Option {
	return func(c *config) { c.extra = append(c.extra, opts...) }
}

// StreamWindow is the receive window every yamux stream of New's hosts
// starts with (unless WithStreamWindow says otherwise), instead of yamux's
// 256 KiB.
//
// A sync keeps several pages in flight on one stream (ordersync.WithLanes),
// so the stream's flow control can set its pace instead of the link.
// yamux doubles a window only while each window empties within four of its
// measured round trips. Over a 100 ms, 50 Mbit/s emulated link the
// requester's window stopped at 4–8 MiB and the provider waited for every
// window update, leaving the link idle about 135 ms in every 4 MiB: the
// sync ran at 38 Mbit/s (netsim bench: ratio 0.79). Starting at 1 MiB it
// reaches 0.95 (at 2 MiB 0.97).
//
// The cost is memory a peer may fill: up to StreamWindow of data a stream's
// reader has not read yet, where yamux's default allows 256 KiB (yamux
// does not count a stream's initial window against the resource manager).
// With ordersync's default of 64 streams that is at most 64 MiB.
const StreamWindow = 1 << 20

// yamuxWindow is yamux's own initial stream window.
const yamuxWindow = 256 << 10

// WithStreamWindow makes the host's yamux streams start with a receive
// window of n bytes; n at or below yamux's 256 KiB keeps yamux's default.
func WithStreamWindow(n uint32) Option {
	return func(c *config) { c.window = n }
}

// muxer is go-libp2p's yamux with streams that start with a window of n.
func muxer(n uint32) libp2p.Option {
	tr := *yamux.DefaultTransport // a copy: DefaultTransport is shared
	tr.InitialStreamWindowSize = max(n, yamuxWindow)
	tr.MaxStreamWindowSize = max(tr.MaxStreamWindowSize, tr.InitialStreamWindowSize)
	return libp2p.Muxer(yamux.ID, &tr)
}

// New starts a host. By default it has go-libp2p's transports, security
// and connection manager (which keeps ordersync's peer scores as tags),
// yamux with a StreamWindow for each stream, and neither relays nor
// metrics: the command talks only to the peers it is told about.
func New(opts ...Option) (host.Host, error) {
	cfg := config{window: StreamWindow}
	for _, o := range opts {
		o(&cfg)
	}
	libp2pOpts := []libp2p.Option{libp2p.DisableRelay(), libp2p.DisableMetrics(), muxer(cfg.window)}
	if cfg.key != nil {
		libp2pOpts = append(libp2pOpts, libp2p.Identity(cfg.key))
	}
	var cm *connmgr.BasicConnMgr
	if cfg.loopback {
		// Watermarks far above any test's or demo's peer count and a long
		// grace period: the manager must only keep tags, never trim.
		var err error
		if cm, err = connmgr.NewConnManager(1000, 2000, connmgr.WithGracePeriod(time.Hour)); err != nil {
			return nil, fmt.Errorf("connection manager: %w", err)
		}
		libp2pOpts = append(libp2pOpts,
			libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
			// TCP only: QUIC and WebSocket listeners would only slow
			// start-up.
			libp2p.Transport(tcp.NewTCPTransport),
			libp2p.ConnectionManager(cm),
			libp2p.Ping(false))
	}
	switch {
	case len(cfg.listen) > 0:
		libp2pOpts = append(libp2pOpts, libp2p.ListenAddrs(cfg.listen...))
	case !cfg.loopback:
		libp2pOpts = append(libp2pOpts, libp2p.NoListenAddrs)
	}
	h, err := libp2p.New(append(libp2pOpts, cfg.extra...)...)
	if err != nil {
		if cm != nil {
			_ = cm.Close()
		}
		if cfg.loopback {
			return nil, fmt.Errorf("libp2p host on 127.0.0.1: %w", err)
		}
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	return h, nil
}

// ConnectTimeout bounds Connect's dial.
const ConnectTimeout = 10 * time.Second

// Connect dials b from a at b's listen addresses, giving up after
// ConnectTimeout or when ctx ends. It does not wait for b to see the
// connection.
func Connect(ctx context.Context, a, b host.Host) error {
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		return fmt.Errorf("connect %s to %s: %w", a.ID(), b.ID(), err)
	}
	return nil
}
