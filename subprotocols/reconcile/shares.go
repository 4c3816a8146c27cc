package reconcile

import (
	"bytes"
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
)

// A first sync into an empty store pages. When several providers are
// paged at once, each sync pages only its share of the hash space
// (ordersync.Validation's TakeShare): its lanes cover that share, and end
// early when a provider that joins later takes half of what is left of
// them. Each lane asks for its next page ahead, within its end as it is
// then (nextShareLaneRequest): an end that moves below a page asked for
// costs that one page. Once every lane has ended, the sync's last lane takes half of the
// widest range another provider has left (StealRange), as long as one is
// worth a few pages; then the sync waits (at most shareWait) for the other
// shares to be paged, and reconciles with its provider from the start, as
// a later sync would: what the shares missed, because a provider stalled
// or withheld orders or the sets differ, is what that reconciliation
// fetches, each order from one provider (claims.go).

// shareWait bounds how long a sync that has paged its share waits for
// the other shares before it reconciles.
const shareWait = 10 * time.Second

// stealPages is the fewest pages (as wide as the sync's first) a range
// must be worth for a sync that has paged its share to take half of it.
const stealPages = 4

// shareRun is what the lanes of one sync's share know of each other.
type shareRun struct {
	minSteal *big.Int // the narrowest range worth taking half of

	mu    sync.Mutex
	lanes int          // lanes started: the share's ranges 0 to lanes-1
	ended map[int]bool // lanes that have ended
}

// end records that lane i has ended and, after a complete page (the
// provider holds nothing after it), every lane after it too, which the
// requester ends unasked; it reports whether every lane has ended.
func (r *shareRun) end(i int, complete bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended[i] = true
	for j := i + 1; complete && j < r.lanes; j++ {
		r.ended[j] = true
	}
	return len(r.ended) >= r.lanes
}

// started records that lane i, a range taken from another provider, has
// started.
func (r *shareRun) started(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lanes = max(r.lanes, i+1)
	delete(r.ended, i)
}

// shareLaneMetadata is the metadata of a request of a lane of a share: a
// lane's, the lane's index in the share, and the share's run. Only the
// subprotocol's own metadata goes on the wire.
type shareLaneMetadata struct {
	paging.LaneMetadata[RequestMetadata]
	index int
	run   *shareRun
	// peeked is the lane as nextShareLaneRequest read it for the answer
	// to this request, when it told the request that follows: the answer
	// is then taken in within that lane, so that the request it returns
	// is the one already written, even if the share's end has moved
	// since (the page past the new end is then stored, not dropped).
	peeked *paging.Lane
}

// firstSync reports whether provider's sync has not reconciled yet: its
// pages answer the first request, as into an empty store.
func (s *Subprotocol) firstSync(provider peer.ID) bool {
	st := s.syncs.get(provider, false)
	return st == nil || (st.rounds == 0 && st.phase != phaseFetch && !st.shared)
}

// shareLanes takes provider's share of the hash space and splits it into
// at most n lanes, for a sync whose last page answered a request after
// prev and ended at cursor: the first continues from cursor, as the
// request it replaces does (when the share starts past cursor, that lane
// ends with its next page). It returns nil, and gives the share up, when
// the share is too small to spread.
func (s *Subprotocol) shareLanes(provider peer.ID, prev, cursor common.Hash, n int) []*ordersync.Request {
	v := s.view()
	ranges := v.TakeShare(provider, n-1, func(rs []ordersync.HashRange) []ordersync.HashRange {
		return splitShare(prev, cursor, rs, n)
	})
	if len(ranges) < 2 {
		v.LeaveShare(provider)
		return nil
	}
	run := &shareRun{minSteal: new(big.Int).Mul(new(big.Int).Sub(cursor.Big(), prev.Big()), big.NewInt(stealPages)),
		lanes: len(ranges), ended: make(map[int]bool)}
	reqs := make([]*ordersync.Request, len(ranges))
	for i, r := range ranges {
		reqs[i] = s.shareLaneRequest(r.After, paging.Lane(r), i, run)
	}
	return reqs
}

// splitShare divides ranges, a share as TakeShare gives it, into at most n
// lanes, the first of which starts after cursor (the first page covered
// what is before): the whole space splits as paging.SplitRange does; a
// share taken from another provider keeps its ranges, one lane each.
func splitShare(prev, cursor common.Hash, ranges []ordersync.HashRange, n int) []ordersync.HashRange {
	var kept []ordersync.HashRange
	for _, r := range ranges {
		if r.Bounded && bytes.Compare(r.End[:], cursor[:]) <= 0 {
			continue // the first page covered it
		}
		if bytes.Compare(r.After[:], cursor[:]) < 0 {
			r.After = cursor
		}
		kept = append(kept, r)
	}
	if len(kept) == 0 {
		return nil
	}
	var out []ordersync.HashRange
	if kept[0].After != cursor {
		// The request that continues from cursor: its page is another
		// provider's, and ends the lane.
		end := common.BigToHash(new(big.Int).Add(cursor.Big(), big.NewInt(1)))
		out = append(out, ordersync.HashRange{After: cursor, End: end, Bounded: true})
	}
	if len(kept) == 1 && len(out) == 0 {
		r := kept[0]
		for _, l := range paging.SplitRange(prev, cursor, r.After, r.End, r.Bounded, n) {
			out = append(out, ordersync.HashRange(l))
		}
		if out == nil {
			return nil // too small to spread: page it as one
		}
		return out
	}
	return append(out, kept...)
}

// shareLaneRequest is the request of lane l, the index-th of a share, for
// the orders after cursor.
func (s *Subprotocol) shareLaneRequest(cursor common.Hash, l paging.Lane, index int, run *shareRun) *ordersync.Request {
	md := s.request(&RequestMetadata{Op: OpPage, After: cursor.Bytes()}).Metadata.(*RequestMetadata)
	l.After = cursor
	return &ordersync.Request{Metadata: &shareLaneMetadata{
		LaneMetadata: paging.LaneMetadata[RequestMetadata]{Metadata: md, Lane: l}, index: index, run: run}}
}

// nextShareLaneRequest is the request that handleShareLane will return for
// page, the answer to md's request in lane l, when the lane goes on after
// it; errUntold when the page ends the lane, since what follows then
// depends on the other providers' shares. A share's end moves down only
// when another provider takes half of what is left, so a request asked
// ahead pages at most one page past it.
func (s *Subprotocol) nextShareLaneRequest(md *shareLaneMetadata, l paging.Lane, page paging.Page) (*ordersync.Request, error) {
	if r, ok := s.view().ShareRange(page.Provider, md.index); ok {
		l.End, l.Bounded = r.End, r.Bounded
	}
	next, done, err := s.pager.PeekLane(page, l)
	if err != nil {
		return nil, err
	}
	if done || l.Bounded && bytes.Compare(next[:], l.End[:]) >= 0 {
		return nil, errUntold
	}
	md.peeked = &l
	return s.shareLaneRequest(next, l, md.index, md.run), nil
}

// handleShareLane takes in a page of the index-th lane of a share, and
// returns the lane's next request; when it was the share's last lane, the
// first request of a range taken from a slower provider, or of the
// reconciliation after the share, or nil when there is none.
func (s *Subprotocol) handleShareLane(ctx context.Context, l paging.Lane, md *shareLaneMetadata, page paging.Page) (*ordersync.Request, int, error) {
	v, provider, index, run := s.view(), page.Provider, md.index, md.run
	if md.peeked != nil {
		l = *md.peeked // the request that follows is written already
	} else if r, ok := v.ShareRange(provider, index); ok {
		// Another provider may have taken half of it since.
		l.End, l.Bounded = r.End, r.Bounded
	}
	acc, err := s.pager.AcceptLane(ctx, page, l)
	if err != nil {
		return nil, acc.Valid, err
	}
	if !acc.Done && (!l.Bounded || bytes.Compare(acc.Next[:], l.End[:]) < 0) {
		v.Paged(provider, index, acc.Next)
		return s.shareLaneRequest(acc.Next, l, index, run), acc.Valid, nil
	}
	end := l.End
	if !l.Bounded {
		end = common.MaxHash
	}
	v.Paged(provider, index, end)
	if !run.end(index, page.Complete) {
		return nil, acc.Valid, nil
	}
	// The last lane, alone now: whatever range it takes, a complete page
	// in it ends no other.
	if r, i, ok := v.StealRange(provider, run.minSteal); ok {
		run.started(i)
		return s.shareLaneRequest(r.After, paging.Lane(r), i, run), acc.Valid, nil
	}
	next, err := s.afterShare(ctx, provider)
	return next, acc.Valid, err
}

// afterShare ends provider's share, whose lanes have all ended, and
// returns the first request of the reconciliation that follows it.
func (s *Subprotocol) afterShare(ctx context.Context, provider peer.ID) (*ordersync.Request, error) {
	v := s.view()
	v.LeaveShare(provider)
	wait, cancel := context.WithTimeout(ctx, shareWait)
	err := v.AwaitShares(wait)
	cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	_ = err // the others are slow: reconcile now, and fetch what they have not paged
	held, sum, err := s.heldAndSum()
	if err != nil {
		return nil, err
	}
	st := s.syncs.get(provider, true)
	*st = syncState{shared: true}
	s.pager.ResetSync(provider)
	return s.request(&RequestMetadata{Op: OpSketch, Held: held, Most: firstAnswerMost, HeldSum: sum}), nil
}
