package ordersync

import (
	"context"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Node is what a Service needs of a libp2p node. A 0x Mesh node already has
// this method set; a plain go-libp2p host gets it from NewHostNode.
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
