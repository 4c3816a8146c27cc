package news

import (
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// An order a sync brought is not the node's own: its provider holds it, and
// the node's other neighbours are most likely syncing it too. Pushed whole
// as the node's own, it would cost each eager neighbour a copy, and
// announced, each neighbour that fetched it would relay it whole; so a
// News neither pushes nor announces it, and leaves it to the syncs. The
// Service tells the News which orders a sync is about to store
// (ordersync.Validation.OnSynced), before the store's change feed reports
// them; the News remembers them here until the feed does.

// syncedCapacity bounds the orders remembered: those the store held
// already never show on the feed, and are forgotten oldest first.
const syncedCapacity = 1 << 14

// syncedTable is the orders syncs are storing.
type syncedTable struct {
	mu sync.Mutex
	// seqOf is each hash's place in the sequence of hashes noted.
	seqOf map[common.Hash]uint64
	ring  [syncedCapacity]common.Hash // the hashes noted, oldest overwritten first
	seq   uint64                      // how many were noted
}

// note remembers that a sync is storing hashes. Which provider sent them
// does not matter to news; the signature is OnSynced's.
func (t *syncedTable) note(_ peer.ID, hashes []common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seqOf == nil {
		t.seqOf = make(map[common.Hash]uint64)
	}
	for _, h := range hashes {
		i := t.seq % syncedCapacity
		if old := t.ring[i]; t.seq >= syncedCapacity {
			if seq, ok := t.seqOf[old]; ok && seq == t.seq-syncedCapacity {
				delete(t.seqOf, old)
			}
		}
		t.ring[i] = h
		t.seqOf[h] = t.seq
		t.seq++
	}
}

// take reports whether a sync was storing h, and forgets it.
func (t *syncedTable) take(h common.Hash) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.seqOf[h]
	delete(t.seqOf, h)
	return ok
}

// len is how many orders the table remembers.
func (t *syncedTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seqOf)
}
