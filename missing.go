package ordersync

import (
	"context"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Several calls may want the same missing order at once: concurrent syncs
// with providers that hold it, and announcements of it from several
// neighbours. The Service keeps one view of the orders being fetched, so
// that each is fetched from one provider at a time; the others wait for
// that fetch to end, and fetch it themselves only if it failed.

// fetchClaim is one provider's fetch of an order, under way.
type fetchClaim struct {
	provider peer.ID
	done     chan struct{} // closed when the fetch has ended
}

// missingView holds the order hashes being fetched now, each by one
// provider. Its zero value is ready to use.
type missingView struct {
	mu       sync.Mutex
	fetching map[common.Hash]*fetchClaim
}

// Claim takes for provider the fetch of every hash in hashes that no other
// fetch is getting, and returns those (mine) apart from the ones another
// provider's fetch has (busy). The caller fetches mine, stores what is
// valid, and then calls Release with them, whatever came of it; the order
// of hashes is kept in both results. A nil Validation claims everything.
// A hash given twice is claimed once.
func (v *Validation) Claim(provider peer.ID, hashes []common.Hash) (mine, busy []common.Hash) {
	if v == nil {
		return hashes, nil
	}
	m := &v.missing
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fetching == nil {
		m.fetching = make(map[common.Hash]*fetchClaim)
	}
	var seen map[common.Hash]bool // hashes of this call, when given twice
	for _, h := range hashes {
		if seen[h] {
			continue
		}
		if _, ok := m.fetching[h]; ok {
			busy = append(busy, h)
			continue
		}
		m.fetching[h] = &fetchClaim{provider: provider, done: make(chan struct{})}
		mine = append(mine, h)
		if seen == nil {
			seen = make(map[common.Hash]bool, len(hashes))
		}
		seen[h] = true
	}
	return mine, busy
}

// ClaimLacking is Claim for the hashes that lacking, the caller's store
// check, still reports missing once they are claimed: a fetch stores its
// orders before it releases them, so an order another fetch stored
// between the caller's own check and its claim shows here, and is given
// back rather than fetched a second time. lacking returns the hashes of
// its argument whose orders the store does not hold, in their order.
func (v *Validation) ClaimLacking(provider peer.ID, hashes []common.Hash, lacking func([]common.Hash) []common.Hash) (mine, busy []common.Hash) {
	claimed, busy := v.Claim(provider, hashes)
	if len(claimed) == 0 {
		return nil, busy
	}
	mine = lacking(claimed)
	if len(mine) < len(claimed) {
		keep := make(map[common.Hash]bool, len(mine))
		for _, h := range mine {
			keep[h] = true
		}
		held := make([]common.Hash, 0, len(claimed)-len(mine))
		for _, h := range claimed {
			if !keep[h] {
				held = append(held, h)
			}
		}
		v.Release(provider, held)
	}
	return mine, busy
}

// Release ends the fetches of hashes that Claim gave the caller: those
// waiting for them in Await go on. Hashes the caller does not hold a claim
// on are skipped.
func (v *Validation) Release(provider peer.ID, hashes []common.Hash) {
	if v == nil {
		return
	}
	m := &v.missing
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range hashes {
		c, ok := m.fetching[h]
		if !ok || c.provider != provider {
			continue
		}
		delete(m.fetching, h)
		close(c.done)
	}
}

// releaseProvider ends every fetch provider holds a claim on: the Service
// calls it when a sync with provider ends, however it ended, so that a sync
// that broke off between Claim and Release leaves no one waiting. At most
// one sync per provider runs at once (flights.go), so its claims are that
// sync's.
func (v *Validation) releaseProvider(provider peer.ID) {
	if v == nil {
		return
	}
	m := &v.missing
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, c := range m.fetching {
		if c.provider == provider {
			delete(m.fetching, h)
			close(c.done)
		}
	}
}

// Await waits until no fetch holds a claim on any of hashes, and returns
// nil, or ctx's error if ctx ends first. The caller then checks its store
// for the orders: a fetch that ended may have failed.
func (v *Validation) Await(ctx context.Context, hashes []common.Hash) error {
	if v == nil {
		return nil
	}
	for _, h := range hashes {
		v.missing.mu.Lock()
		c, ok := v.missing.fetching[h]
		v.missing.mu.Unlock()
		if !ok {
			continue
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
