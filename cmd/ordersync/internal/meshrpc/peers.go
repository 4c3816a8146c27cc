package meshrpc

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// addPeerTimeout bounds mesh_addPeer's dial.
const addPeerTimeout = 30 * time.Second

// maxPeerAddrs bounds the multiaddrs of one mesh_addPeer.
const maxPeerAddrs = 32

// AddPeer is mesh_addPeer(peerID, multiaddrs): connect to the peer now.
// The node then syncs with it in its next rounds, as with any neighbour.
func (a *api) AddPeer(ctx context.Context, peerID string, multiaddrs []string) error {
	id, err := peer.Decode(peerID)
	if err != nil {
		return invalidParams("peerID %q: %v", peerID, err)
	}
	if len(multiaddrs) > maxPeerAddrs {
		return invalidParams("%d multiaddrs: at most %d", len(multiaddrs), maxPeerAddrs)
	}
	ai := peer.AddrInfo{ID: id}
	for _, s := range multiaddrs {
		addr, err := ma.NewMultiaddr(s)
		if err != nil {
			return invalidParams("multiaddr %q: %v", s, err)
		}
		ai.Addrs = append(ai.Addrs, addr)
	}
	if id == a.s.cfg.Host.ID() {
		return invalidParams("peerID %s is this node's own", id)
	}
	ctx, cancel := context.WithTimeout(ctx, addPeerTimeout)
	defer cancel()
	if err := a.s.cfg.Host.Connect(ctx, ai); err != nil {
		return &rpcError{code: -32000, msg: "cannot connect to " + id.String() + ": " + err.Error()}
	}
	return nil
}
