package news

import (
	"github.com/ethereum/go-ethereum/common"
)

// The News's claims in the Service's one view of missing orders, in one
// place. They are news's own (ordersync.Claims), so that the end of a sync
// with a peer never releases them; each flow releases what it claimed:
// a claimed hash is this News's to fetch, or take from a push, until then.

// claim claims those of hashes the store still lacks; busy are those
// another fetch is getting.
func (n *News) claim(hashes []common.Hash) (mine, busy []common.Hash) {
	if len(hashes) == 0 {
		return nil, nil
	}
	return n.claims.ClaimLacking(hashes, n.lacking)
}

// release gives up the claims on hashes.
func (n *News) release(hashes []common.Hash) {
	if len(hashes) > 0 {
		n.claims.Release(hashes)
	}
}
