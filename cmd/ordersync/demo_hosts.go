package main

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// newLoopbackHost starts a host on 127.0.0.1 the way a node would run one:
// TCP, go-libp2p's default security and muxer, and a real connection
// manager so that peer scores land somewhere.
func newLoopbackHost() (host.Host, error) {
	// High watermarks and a long grace period: the manager keeps score tags
	// but must never trim the demo's connections.
	cm, err := connmgr.NewConnManager(1000, 2000, connmgr.WithGracePeriod(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ConnectionManager(cm),
		libp2p.DisableRelay(),
		libp2p.Ping(false),
	)
	if err != nil {
		_ = cm.Close()
		return nil, fmt.Errorf("libp2p host on 127.0.0.1: %w", err)
	}
	return h, nil
}

// connectHosts dials b from a.
func connectHosts(ctx context.Context, a, b host.Host) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		return fmt.Errorf("connect %s to %s: %w", a.ID(), b.ID(), err)
	}
	return nil
}
