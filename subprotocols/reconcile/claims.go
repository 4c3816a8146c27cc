package reconcile

import (
	"context"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
)

// A node reconciling with several providers at once finds the same orders
// missing in each sync. Each missing order is fetched from one of them:
// before a fetch the requester claims its hashes in the Service's view of
// the orders being fetched (ordersync.Validation's SyncClaims, which the
// Service releases when the sync ends, however it ends), leaves out
// those another sync is fetching, and once that fetch has ended asks for
// those its store still lacks. A provider that claims orders and never
// delivers them holds the others up for one fetch, at most the message
// timeout, and then they fetch the orders themselves.

// maxAwaits bounds how often one sync waits for other syncs' fetches; past
// it, what is still missing is fetched without claiming, so that syncs
// that keep failing each other's orders cannot stall one another.
const maxAwaits = 4

// view is the Service's view of the orders being fetched and of the first
// syncs' shares; nil until UseValidation, which claims everything.
func (s *Subprotocol) view() *ordersync.Validation { return s.validation.Load() }

// nextFetch is the request for the next page of wanted hashes that no
// other sync is fetching and the store still lacks, or nil when none is
// left; it waits, within ctx, for other syncs' fetches of the rest.
func (s *Subprotocol) nextFetch(ctx context.Context, provider peer.ID, st *syncState) (*ordersync.Request, error) {
	v := s.view()
	for {
		for len(st.want) > 0 {
			n := min(len(st.want), MaxFetch)
			batch := s.notHeld(st.want[:n])
			st.want = st.want[n:]
			mine := batch
			if !st.unclaimed {
				var busy []common.Hash
				mine, busy = v.SyncClaims(provider).ClaimLacking(batch, s.notHeld)
				st.busy = append(st.busy, busy...)
			}
			if len(mine) > 0 {
				return s.fetchRequest(st, mine), nil
			}
		}
		if len(st.busy) == 0 {
			st.inSync = st.inSyncIfHeld && s.allHeld(st.diff)
			st.diff = nil
			return nil, nil
		}
		if err := v.Await(ctx, st.busy); err != nil {
			return nil, err
		}
		st.awaits++
		st.unclaimed = st.awaits >= maxAwaits
		st.want, st.busy = st.busy, nil
	}
}

// fetchRequest is the fetch request for hashes, ascending, which the sync
// now fetches.
func (s *Subprotocol) fetchRequest(st *syncState, hashes []common.Hash) *ordersync.Request {
	st.asked = hashes
	st.askedTotal += len(hashes)
	return s.askFetch(st)
}

// askFetch is the fetch request for st.asked: by their positions in the
// snapshot when the provider's list gave them, by hash otherwise.
func (s *Subprotocol) askFetch(st *syncState) *ordersync.Request {
	if positions := st.askedPositions(); positions != nil {
		st.askedAt = true
		return s.request(&RequestMetadata{Op: OpFetch, Snapshot: st.snapshot, Positions: appendPositions(nil, positions)})
	}
	st.askedAt = false
	raw := make([]byte, 0, 32*len(st.asked))
	for _, h := range st.asked {
		raw = append(raw, h[:]...)
	}
	return s.request(&RequestMetadata{Op: OpFetch, Hashes: raw})
}

// askedPositions are the positions of st.asked, ascending, or nil when
// one is not known.
func (st *syncState) askedPositions() []int {
	if st.at == nil {
		return nil
	}
	out := make([]int, 0, len(st.asked))
	for _, h := range st.asked {
		p, ok := st.at[h]
		if !ok || (len(out) > 0 && p <= out[len(out)-1]) {
			return nil
		}
		out = append(out, p)
	}
	return out
}

// notHeld is hashes less those the store holds, in the same order; hashes
// itself when the store cannot tell.
func (s *Subprotocol) notHeld(hashes []common.Hash) []common.Hash {
	getter, ok := s.store.(orderstore.Getter)
	if !ok {
		return hashes
	}
	out := make([]common.Hash, 0, len(hashes))
	for _, h := range hashes {
		if _, held := getter.Get(h); !held {
			out = append(out, h)
		}
	}
	return out
}

// allHeld reports whether the requester holds, or rejected for what every
// copy carries, each of hashes, whichever provider delivered them. A copy
// spoiled by provider itself does not count.
func (s *Subprotocol) allHeld(hashes []common.Hash) bool {
	left := s.notHeld(hashes)
	if len(left) == 0 {
		return true
	}
	if _, ok := s.store.(orderstore.Getter); !ok {
		return false
	}
	all, _ := s.rejected.list("")
	rejected := make(map[common.Hash]bool, len(all))
	for _, h := range all {
		rejected[h] = true
	}
	for _, h := range left {
		if !rejected[h] {
			return false
		}
	}
	return true
}

// releaseAsked ends the sync's claims on the fetch under way.
func (s *Subprotocol) releaseAsked(provider peer.ID, st *syncState) {
	if len(st.asked) > 0 && !st.unclaimed {
		s.view().SyncClaims(provider).Release(st.asked)
	}
}
