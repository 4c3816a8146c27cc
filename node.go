package ordersync

import (
	"context"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Node is what a Service needs of a libp2p node. The names are those of a
// 0x Mesh node's methods, but the types are current go-libp2p's, so a node
// satisfies Node only when it builds on that go-libp2p (see the package
// documentation). A plain go-libp2p host gets it from NewHostNode.
type Node interface {
	// ID is the node's own peer ID.
	ID() peer.ID
	// SetStreamHandler registers the handler for a protocol.
	SetStreamHandler(protocol.ID, network.StreamHandler)
	// NewStream opens a stream to a peer for the first protocol it supports.
	NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error)
	// Neighbors lists the peers the node is connected to.
	Neighbors() []peer.ID
	// AddPeerScore adds diff to the score a peer has under tag.
	AddPeerScore(id peer.ID, tag string, diff int)
	// SetPeerScore sets the score a peer has under tag.
	SetPeerScore(id peer.ID, tag string, val int)
	// UnsetPeerScore removes the score a peer has under tag.
	UnsetPeerScore(id peer.ID, tag string)
}
