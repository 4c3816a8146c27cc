package news

import (
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// An order a sync brought is not the node's own: its provider holds it, and
// the node's other neighbours are most likely syncing it too. Pushed whole
// as the node's own, it would cost each eager neighbour a copy; so a News
// only announces it, lazily, as news 1.0.0 did every order. The Service
// tells the News which orders a sync is about to store
// (ordersync.Validation.OnSynced), before the store's change feed reports
// them; the News remembers them here until the feed does.

// syncedCapacity bounds the orders remembered: those the store held
// already never show on the feed, and are forgotten oldest first.
const syncedCapacity = 1 << 14

// syncedTable is the orders syncs are storing, and from which provider.
type syncedTable struct {
	mu   sync.Mutex
	from map[common.Hash]syncedEntry
	ring [syncedCapacity]common.Hash // the hashes noted, oldest overwritten first
	seq  uint64                      // how many were noted
}

type syncedEntry struct {
	provider peer.ID
	seq      uint64 // its place in ring
}

// note remembers that a sync with provider is storing hashes.
func (t *syncedTable) note(provider peer.ID, hashes []common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.from == nil {
		t.from = make(map[common.Hash]syncedEntry)
	}
	for _, h := range hashes {
		i := t.seq % syncedCapacity
		if old := t.ring[i]; t.seq >= syncedCapacity {
			if e, ok := t.from[old]; ok && e.seq == t.seq-syncedCapacity {
				delete(t.from, old)
			}
		}
		t.ring[i] = h
		t.from[h] = syncedEntry{provider: provider, seq: t.seq}
		t.seq++
	}
}

// take returns the provider of h, when a sync was storing it, and forgets
// it.
func (t *syncedTable) take(h common.Hash) (peer.ID, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.from[h]
	if ok {
		delete(t.from, h)
	}
	return e.provider, ok
}

// len is how many orders the table remembers.
func (t *syncedTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.from)
}
