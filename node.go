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

// ProtocolNeighbors is implemented by a Node that knows which of its
// neighbours speak a protocol, as a go-libp2p host learns through identify.
// A Service given such a Node offers syncs only to the neighbours that
// speak ordersync, so that a node's DHT or pubsub peers are never tried,
// and never scored for a sync they could not have served. HostNode
// implements it; a Node without it has every neighbour tried.
type ProtocolNeighbors interface {
	// NeighborsSupporting lists the connected peers that support protocol
	// pid. It may wait, until ctx ends, for what it needs to know (a
	// connection's identify).
	NeighborsSupporting(ctx context.Context, pid protocol.ID) []peer.ID
}

// neighbors lists the peers a round offers syncs to: those that speak
// ordersync, where the node can tell.
func (s *Service) neighbors(ctx context.Context) []peer.ID {
	if pn, ok := s.node.(ProtocolNeighbors); ok {
		return pn.NeighborsSupporting(ctx, ID)
	}
	return s.node.Neighbors()
}
