package paging

import (
	"context"

	"github.com/ordersync/ordersync/zeroex"
)

// Precheck checks, on all cores, the signatures of those of a page's
// orders that the store does not hold with the same signature, ahead of
// the page's turn (see ordersync.Prechecker). A zeroex.SignedOrder
// remembers a good signature, so Accept does not check it again; nothing
// else is kept: no verdict, count, score or cursor, and nothing is
// stored. Every order that hashes is checked, in range or not: a page
// costs no more than one whose orders all are.
func (p *Pager) Precheck(ctx context.Context, orders []*zeroex.SignedOrder) {
	if len(orders) == 0 || ctx.Err() != nil {
		return
	}
	s := scratchPool.Get().(*scratch)
	defer s.release()
	s.reset(len(orders))
	hashOrders(orders, s)
	for i, o := range orders {
		if s.verdicts[i] == verdictValid {
			s.candidates = append(s.candidates, o)
			s.index = append(s.index, i)
		}
	}
	if len(s.candidates) > 0 {
		p.verifySignatures(s)
	}
}
