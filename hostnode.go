package ordersync

import (
	"context"
	"errors"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	msmux "github.com/multiformats/go-multistream"
)

// HostNode adapts a plain go-libp2p host to Node: its neighbours are the
// peers it is connected to and peer scores are tags in its connection
// manager. libp2p.New gives a host a connection manager unless told
// otherwise (connmgr.NewConnManager(160, 192) in go-libp2p v0.51), so the
// tags are kept, and weigh in when it trims connections, for as long as a
// peer stays connected; a host given connmgr.NullConnMgr drops them.
type HostNode struct {
	h host.Host
}

// NewHostNode returns the Node of host h.
func NewHostNode(h host.Host) *HostNode { return &HostNode{h: h} }

// ID is the host's peer ID.
func (n *HostNode) ID() peer.ID { return n.h.ID() }

// SetStreamHandler registers handler for protocol pid on the host.
func (n *HostNode) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	n.h.SetStreamHandler(pid, handler)
}

// NewStream opens a stream to p on the host.
func (n *HostNode) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	return n.h.NewStream(ctx, p, pids...)
}

// Neighbors lists the peers the host is connected to.
func (n *HostNode) Neighbors() []peer.ID { return n.h.Network().Peers() }

// NeighborsSupporting lists the connected peers that, by the host's
// peerstore, support protocol pid (see ProtocolNeighbors). The peerstore
// learns a peer's protocols from identify, which runs on every new
// connection: for a peer it knows no protocols of yet, it waits for that
// identify to end (or ctx), on a host that offers the wait as go-libp2p's
// basic host does. On any other host such a peer is listed, and a sync
// with it that finds the protocol unsupported costs it nothing. A peer
// that starts speaking pid after the connection is listed once identify's
// push has told the host; go-libp2p v0.51 can store that push before the
// connection's first, older identify response, and then the peer is not
// listed until it connects again or its protocols change again.
func (n *HostNode) NeighborsSupporting(ctx context.Context, pid protocol.ID) []peer.ID {
	peers := n.h.Network().Peers()
	ps := n.h.Peerstore()
	ids, canWait := n.h.(interface{ IDService() identify.IDService })
	var waits []<-chan struct{}
	for _, p := range peers {
		if known, _ := ps.GetProtocols(p); len(known) == 0 && canWait {
			for _, c := range n.h.Network().ConnsToPeer(p) {
				waits = append(waits, ids.IDService().IdentifyWait(c))
			}
		}
	}
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
	out := peers[:0]
	for _, p := range peers {
		known, _ := ps.GetProtocols(p)
		if len(known) == 0 && !canWait {
			out = append(out, p)
			continue
		}
		if ok, _ := ps.SupportsProtocols(p, pid); len(ok) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// protocolNotSupported says whether err, from opening or using a stream,
// is the peer's answer that it does not speak the protocol: a fact about
// the peer, not misbehaviour, so it is not scored.
func protocolNotSupported(err error) bool {
	return errors.Is(err, msmux.ErrNotSupported[protocol.ID]{})
}

// AddPeerScore adds diff to p's tag in the connection manager.
func (n *HostNode) AddPeerScore(p peer.ID, tag string, diff int) {
	n.h.ConnManager().UpsertTag(p, tag, func(v int) int { return v + diff })
}

// SetPeerScore sets p's tag in the connection manager to val.
func (n *HostNode) SetPeerScore(p peer.ID, tag string, val int) {
	n.h.ConnManager().TagPeer(p, tag, val)
}

// RemoveStreamHandler removes the host's handler for protocol pid.
func (n *HostNode) RemoveStreamHandler(pid protocol.ID) {
	n.h.RemoveStreamHandler(pid)
}

// UnsetPeerScore removes p's tag from the connection manager.
func (n *HostNode) UnsetPeerScore(p peer.ID, tag string) {
	n.h.ConnManager().UntagPeer(p, tag)
}

var (
	_ Node                 = (*HostNode)(nil)
	_ StreamHandlerRemover = (*HostNode)(nil)
	_ ProtocolNeighbors    = (*HostNode)(nil)
)
