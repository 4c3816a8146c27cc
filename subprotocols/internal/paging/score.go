package paging

import "github.com/libp2p/go-libp2p/core/peer"

// PeerScorer moves a peer's score under a tag (the tags are package
// peerscore's OrderDoesNotMatchFilter, InvalidOrderSignature and
// InvalidOrder). ordersync.Node satisfies it,
// so a node passes itself.
type PeerScorer interface {
	// AddPeerScore adds diff to the score a peer has under tag.
	AddPeerScore(id peer.ID, tag string, diff int)
	// SetPeerScore sets the score a peer has under tag.
	SetPeerScore(id peer.ID, tag string, val int)
}

// noScorer is the PeerScorer used when none is given.
type noScorer struct{}

func (noScorer) AddPeerScore(peer.ID, string, int) {}
func (noScorer) SetPeerScore(peer.ID, string, int) {}
