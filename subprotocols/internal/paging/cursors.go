package paging

import (
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxTrackedProviders bounds the cursor table. Entries go when a sync
// completes or fails; this only matters for syncs that break off and are
// never resumed.
const maxTrackedProviders = 4096

type peerKey = peer.ID

// cursorEntry is the cursor of the last request produced for a provider.
type cursorEntry struct {
	after common.Hash
}

// cursorTable maps providers to the cursor their next response must move
// past. A provider without an entry is at the start (zero hash).
type cursorTable struct {
	mu     sync.Mutex
	byPeer map[peerKey]cursorEntry
}

func (t *cursorTable) get(p peer.ID) common.Hash {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byPeer[p].after
}

func (t *cursorTable) set(p peer.ID, after common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byPeer[p]; !ok && len(t.byPeer) >= maxTrackedProviders {
		for victim := range t.byPeer { // any entry will do
			delete(t.byPeer, victim)
			break
		}
	}
	t.byPeer[p] = cursorEntry{after: after}
}

func (t *cursorTable) forget(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byPeer, p)
}
