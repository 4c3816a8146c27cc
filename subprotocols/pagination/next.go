package pagination

import "github.com/ethereum/go-ethereum/common"

// NextCursor works out, from page alone, the cursor that Accept would move
// to for it: the orders are hashed and range-checked as Accept does, but no
// signature is checked and nothing is stored, counted, scored or
// remembered. A requester uses it to ask for the next page before this one
// is verified (see ordersync.Pipeliner). done is true when Accept would
// report Done; err is Accept's ErrEmptyIncompletePage or ErrCursorStalled.
//
// Signatures and the filter never move the cursor (an in-range order with a
// bad signature still counts as scanned), so Accept's Next for the same
// page, called next for the same provider, is the same hash.
func (p *Pager) NextCursor(page Page) (next common.Hash, done bool, err error) {
	if len(page.Orders) == 0 {
		if !page.Complete {
			return common.Hash{}, false, ErrEmptyIncompletePage
		}
		return common.Hash{}, true, nil
	}
	if page.Complete {
		return common.Hash{}, true, nil
	}
	after := p.cursors.get(page.Provider)
	s := scratchPool.Get().(*scratch)
	defer s.release()
	s.reset(len(page.Orders))
	last, _ := p.checkOrders(page, after, s)
	next, err = nextCursor(page, after, last)
	return next, false, err
}
