package ordersync

import (
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/zeroex"
)

// The orders a sync stores reach the store's change feed as the node's
// own new orders do. A companion protocol that spreads new orders
// (subprotocols/news) must tell them apart: the node's own are news to
// every neighbour, while what a sync brought is most likely being synced
// by the neighbours too, and the provider holds it. So the subprotocols'
// requesters tell the Validation which orders a sync is about to store,
// and from which provider, before they store them.

// syncedWatchers are the functions OnSynced registered. Its zero value is
// ready to use.
type syncedWatchers struct {
	count atomic.Int32 // len(fns), read without the lock on every page
	mu    sync.Mutex
	fns   map[int]func(provider peer.ID, hashes []common.Hash)
	next  int
}

// OnSynced calls fn, until stop is called, with the hashes of the orders
// each sync is about to store and the provider that sent them. fn runs
// before those orders reach the store, so before its change feed reports
// them; it must be quick and must not block, since the sync waits for it.
// Orders fetched by a companion protocol (news's own fetches and pushes)
// are not reported.
func (v *Validation) OnSynced(fn func(provider peer.ID, hashes []common.Hash)) (stop func()) {
	if v == nil || fn == nil {
		return func() {}
	}
	w := &v.missing.synced
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = make(map[int]func(peer.ID, []common.Hash))
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	w.count.Store(int32(len(w.fns)))
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			delete(w.fns, id)
			w.count.Store(int32(len(w.fns)))
		})
	}
}

// Synced tells the functions OnSynced registered that a sync with
// provider is about to store orders. A subprotocol's requester calls it
// before it stores the orders of a sync's page or fetch; a companion
// protocol's fetches do not call it. With nothing registered it costs an
// atomic load.
func (v *Validation) Synced(provider peer.ID, orders []*zeroex.SignedOrder) {
	if v == nil || len(orders) == 0 || v.missing.synced.count.Load() == 0 {
		return
	}
	hashes := make([]common.Hash, 0, len(orders))
	for _, o := range orders {
		if h, err := o.ComputeOrderHash(); err == nil {
			hashes = append(hashes, h)
		}
	}
	w := &v.missing.synced
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fn := range w.fns {
		fn(provider, hashes)
	}
}
