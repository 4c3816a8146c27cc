package pagination

import "github.com/libp2p/go-libp2p/core/peer"

// Peer-score tags moved by the requester pipeline; see the package
// documentation.
const (
	// TagOrderDoesNotMatchFilter is set to ScoreOrderDoesNotMatchFilter
	// when a provider sends an order outside the requester's filter. The
	// name is the one existing nodes use.
	TagOrderDoesNotMatchFilter = "received-order-does-not-match-filter"
	// TagInvalidOrderSignature gets ScoreInvalidOrderSignature added when
	// a page holds an order whose signature is not the maker's.
	TagInvalidOrderSignature = "ordersync/invalid-order-signature"
	// TagInvalidOrder gets ScoreInvalidOrder added when a page holds a
	// malformed order, or orders out of order (unsorted, repeated, or past
	// the hash the provider says it scanned to).
	TagInvalidOrder = "ordersync/invalid-order"
)

// Score changes for the tags above.
const (
	ScoreOrderDoesNotMatchFilter = -10
	ScoreInvalidOrderSignature   = -5
	ScoreInvalidOrder            = -5
)

// PeerScorer moves a peer's score under a tag. ordersync.Node satisfies it,
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
