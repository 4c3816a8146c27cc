package paging

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/zeroex"
)

// Lane is a range of order hashes that a requester pages through on its
// own, beside the other lanes of a sync (see ordersync.Spreader): the
// orders after After, the cursor of the lane's next request, and before
// End. The last lane is not Bounded: it ends where the provider's orders
// do.
type Lane struct {
	After   common.Hash
	End     common.Hash
	Bounded bool
}

// LaneMetadata is the metadata of a lane's request as the requester holds
// it: the subprotocol's own metadata M, which is all that goes on the wire
// (it encodes as Metadata does), and the Lane it belongs to.
type LaneMetadata[M any] struct {
	Metadata *M
	Lane     Lane
}

// MarshalJSON encodes Metadata alone.
func (m *LaneMetadata[M]) MarshalJSON() ([]byte, error) { return json.Marshal(m.Metadata) }

// hashSpace is 2^256, the number of order hashes.
var hashSpace = new(big.Int).Lsh(big.NewInt(1), 256)

// PagesPerLane is the fewest pages SplitLanes leaves to each lane. A lane's
// last page runs into the next lane by half a page on average, and those
// orders are fetched twice: with ten pages a lane that costs at most about
// 5 % more bytes, where one page a lane cost 36 % on a book of six pages.
const PagesPerLane = 10

// SplitLanes splits the hashes after cursor into at most n lanes of equal
// width, for a sync whose last page answered a request after prev and
// ended at cursor. Order hashes are keccak outputs, spread evenly, so equal
// widths carry about equal numbers of orders, and the width that page
// covered tells how many pages are left: SplitLanes makes at most one lane
// per PagesPerLane of them, and none when that is under two, so that a
// small book stays in one lane (an extra lane costs a request, and a page
// that runs into the next lane carries orders that lane fetches again). The
// first lane starts after cursor; the last is not bounded.
func SplitLanes(prev, cursor common.Hash, n int) []Lane {
	return SplitRange(prev, cursor, cursor, common.Hash{}, false, n)
}

// SplitRange is SplitLanes for the hashes after from (at or past cursor)
// and before end, or to the end of the space when bounded is false: the
// share of the space a sync pages when several providers page one each
// (ordersync.HashShare). The last lane ends at end. Like SplitLanes it
// makes none when fewer than two lanes would have PagesPerLane pages each.
func SplitRange(prev, cursor, from, end common.Hash, bounded bool, n int) []Lane {
	covered := new(big.Int).Sub(cursor.Big(), prev.Big())
	c := from.Big()
	left := new(big.Int).Set(hashSpace)
	if bounded {
		left = end.Big()
	}
	left.Sub(left, c)
	left.Sub(left, big.NewInt(1)) // the hashes after from
	if covered.Sign() <= 0 || left.Sign() <= 0 || c.Cmp(cursor.Big()) < 0 {
		return nil
	}
	pages := new(big.Int).Quo(left, covered)
	if pages.IsInt64() && pages.Int64()/PagesPerLane < int64(n) {
		n = int(pages.Int64() / PagesPerLane)
	}
	if n < 2 {
		return nil
	}
	lanes := make([]Lane, n)
	after := from
	for i := range lanes {
		lanes[i].After = after
		if i == n-1 {
			lanes[i].End, lanes[i].Bounded = end, bounded
			break
		}
		// The next lane starts at from + 1 + (i+1)·left/n, and its
		// first request asks for the orders after the hash before that.
		w := new(big.Int).Mul(left, big.NewInt(int64(i+1)))
		w.Quo(w, big.NewInt(int64(n)))
		w.Add(w, c)
		after = common.BigToHash(w)
		lanes[i].End, lanes[i].Bounded = common.BigToHash(w.Add(w, big.NewInt(1))), true
	}
	return lanes
}

// clip takes out of page the orders that belong to later lanes, at or past
// l's End: the next lane fetches them, so they are not held against the
// provider. ended is true when page reaches the end of l: it had such an
// order, or the provider says it scanned to End or past it.
func (l Lane) clip(page Page) (clipped Page, ended bool) {
	if !l.Bounded {
		return page, false
	}
	ended = page.Through != (common.Hash{}) && bytes.Compare(page.Through[:], l.End[:]) >= 0
	var kept []*zeroex.SignedOrder
	for i, o := range page.Orders {
		beyond := false
		if o != nil {
			// Hashes are cached on the orders: the pipeline's own
			// hashing of the page costs nothing more.
			if h, err := o.ComputeOrderHash(); err == nil {
				beyond = bytes.Compare(h[:], l.End[:]) >= 0
			}
		}
		switch {
		case beyond && kept == nil:
			kept = slices.Clone(page.Orders[:i])
			ended = true
		case beyond:
			ended = true
		case kept != nil:
			kept = append(kept, o)
		}
	}
	if kept != nil {
		page.Orders = kept
	}
	return page, ended
}

// AcceptLane is Accept for a page that answers a request of lane l (l.After
// is that request's cursor): it first takes out the orders at or past l's
// End, which belong to the next lane, and it neither reads nor moves the
// per-provider cursor, so lanes of one sync do not disturb one another.
// Orders at or before l.After are held against the provider: it was asked
// from there. Done is true when the lane has ended, because the page
// reached its End or was complete.
func (p *Pager) AcceptLane(ctx context.Context, page Page, l Lane) (Accepted, error) {
	page, ended := l.clip(page)
	if ended && len(page.Orders) == 0 {
		return Accepted{Done: true}, nil
	}
	res, err := p.take(ctx, page, l.After, true)
	if err == nil && ended {
		res.Done, res.Next = true, common.Hash{}
	}
	return res, err
}

// PeekLane is to AcceptLane what the early request of a Pipeliner is to
// Accept: the cursor AcceptLane would move l to for page, from the order
// hashes alone, with nothing checked, stored or scored; done is true when
// the lane would end, and err is AcceptLane's ErrEmptyIncompletePage or
// ErrCursorStalled.
func (p *Pager) PeekLane(page Page, l Lane) (next common.Hash, done bool, err error) {
	page, ended := l.clip(page)
	if ended {
		return common.Hash{}, true, nil
	}
	return p.peek(page, l.After)
}

// PeekNext is the cursor Accept would move to for page, from the order
// hashes alone, with nothing checked, stored or scored (for a
// subprotocol's ordersync.Pipeliner); done is true when Accept would
// report Done, and err is Accept's ErrEmptyIncompletePage or
// ErrCursorStalled.
func (p *Pager) PeekNext(page Page) (next common.Hash, done bool, err error) {
	return p.peekNext(page)
}

// Cursor is the cursor the next page from provider must move past: that
// of the last request the Pager produced for it, the zero hash at the
// start.
func (p *Pager) Cursor(provider peer.ID) common.Hash { return p.cursors.get(provider) }
