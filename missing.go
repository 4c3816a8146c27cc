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
// that each is fetched by one fetch at a time; the others wait for that
// fetch to end, and fetch it themselves only if it failed. A claim belongs
// to the fetch that made it, not to the provider, so that two fetches from
// one provider (a sync and an announcement's, say) never end each other's.

// fetchClaim is one fetch's claim on an order, under way.
type fetchClaim struct {
	owner *Claims
	done  chan struct{} // closed when the claim is released
}

// missingView holds the order hashes being fetched now, each by one fetch,
// and the claims of the syncs running now, by provider. Its zero value is
// ready to use.
type missingView struct {
	mu       sync.Mutex
	fetching map[common.Hash]*fetchClaim
	syncs    map[peer.ID]*Claims
	synced   syncedWatchers // told of the orders syncs are about to store
}

// Claims are one fetch's claims in the Service's view of the orders being
// fetched: the hashes it is getting, which no other fetch gets meanwhile.
// A fetch claims hashes before it asks for them, stores what is valid, and
// then releases them, whatever came of it. Only the Claims that made a
// claim releases it. A nil *Claims claims everything and holds nothing:
// it is what a nil Validation gives. Its methods are safe for concurrent
// use.
type Claims struct {
	view *missingView
	held map[common.Hash]bool // guarded by view.mu
}

// NewClaims starts the claims of a fetch that is not a sync (a sync's are
// SyncClaims): the caller releases them, with Release or ReleaseAll,
// whatever came of its fetch. A nil Validation returns nil, which claims
// everything.
func (v *Validation) NewClaims() *Claims {
	if v == nil {
		return nil
	}
	return &Claims{view: &v.missing}
}

// SyncClaims returns the claims of the sync with provider that the Service
// runs now, for a subprotocol's requester to claim its fetches with. The
// Service releases whatever they still hold when that sync ends, however
// it ended, so that a sync that broke off between a claim and its release
// leaves no one waiting; no other fetch's claims go with them. At most one
// sync per provider runs at once, so every call during a sync returns the
// same Claims. A nil Validation returns nil, which claims everything.
func (v *Validation) SyncClaims(provider peer.ID) *Claims {
	if v == nil {
		return nil
	}
	m := &v.missing
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.syncs[provider]
	if c == nil {
		if m.syncs == nil {
			m.syncs = make(map[peer.ID]*Claims)
		}
		c = &Claims{view: m}
		m.syncs[provider] = c
	}
	return c
}

// endSync releases every claim of the sync with provider, which has ended:
// the next sync with provider starts with new Claims.
func (v *Validation) endSync(provider peer.ID) {
	if v == nil {
		return
	}
	m := &v.missing
	m.mu.Lock()
	c := m.syncs[provider]
	delete(m.syncs, provider)
	m.mu.Unlock()
	c.ReleaseAll()
}

// Claim takes for this fetch every hash in hashes that no fetch is getting,
// and returns those (mine) apart from the ones another fetch has, or this
// one already had (busy); the order of hashes is kept in both results. A
// hash given twice is claimed once. The caller fetches mine, stores what is
// valid, and then releases them.
func (c *Claims) Claim(hashes []common.Hash) (mine, busy []common.Hash) {
	if c == nil {
		return hashes, nil
	}
	m := c.view
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fetching == nil {
		m.fetching = make(map[common.Hash]*fetchClaim)
	}
	if c.held == nil {
		c.held = make(map[common.Hash]bool, len(hashes))
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
		m.fetching[h] = &fetchClaim{owner: c, done: make(chan struct{})}
		c.held[h] = true
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
func (c *Claims) ClaimLacking(hashes []common.Hash, lacking func([]common.Hash) []common.Hash) (mine, busy []common.Hash) {
	claimed, busy := c.Claim(hashes)
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
		c.Release(held)
	}
	return mine, busy
}

// Release ends this fetch's claims on hashes: those waiting for them in
// Validation.Await go on. Hashes it holds no claim on are skipped.
func (c *Claims) Release(hashes []common.Hash) {
	if c == nil {
		return
	}
	m := c.view
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range hashes {
		if c.held[h] {
			c.release(h)
		}
	}
}

// ReleaseAll ends every claim this fetch holds.
func (c *Claims) ReleaseAll() {
	if c == nil {
		return
	}
	m := c.view
	m.mu.Lock()
	defer m.mu.Unlock()
	for h := range c.held {
		c.release(h)
	}
}

// release ends the claim on h, which c holds. The caller holds view.mu.
func (c *Claims) release(h common.Hash) {
	delete(c.held, h)
	if f := c.view.fetching[h]; f != nil && f.owner == c {
		delete(c.view.fetching, h)
		close(f.done)
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
