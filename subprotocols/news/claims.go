package news

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The News's claims in the Service's one view of missing orders, in one
// place: a claimed hash is this News's to fetch (or take from a push) from
// p until released.

// claim claims for p those of hashes the store still lacks; busy are those
// another fetch is getting.
func (n *News) claim(p peer.ID, hashes []common.Hash) (mine, busy []common.Hash) {
	if len(hashes) == 0 {
		return nil, nil
	}
	return n.validation.ClaimLacking(p, hashes, n.lacking)
}

// release gives up p's claims on hashes.
func (n *News) release(p peer.ID, hashes []common.Hash) {
	if len(hashes) > 0 {
		n.validation.Release(p, hashes)
	}
}
