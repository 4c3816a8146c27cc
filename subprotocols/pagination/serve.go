package pagination

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/zeroex"
)

// ErrScanLimit is Serve's error when it scanned its bound (WithMaxScan)
// without finding an order that matches the request's filter. Answering an
// empty page instead would end the requester's sync as if nothing were
// left.
var ErrScanLimit = errors.New("pagination: scan limit reached without a matching order")

// Served is one page a provider answers.
type Served struct {
	// Orders match the request's filter, ascending by hash, at most
	// PerPage of them. Empty means nothing is left after the cursor.
	Orders []*zeroex.SignedOrder
	// LastScanned is the hash of the last stored order Serve looked at,
	// matching or not; the request's cursor when it looked at none.
	LastScanned common.Hash
}

// Serve pages through the store after the cursor after, keeping the orders
// that match filter (every order when filter is nil), until it has PerPage
// of them or the store is exhausted. It stops with ctx's error when ctx
// ends, and with ErrScanLimit when the scan bound passes without a match.
func (p *Pager) Serve(ctx context.Context, after common.Hash, filter *orderfilter.Filter) (Served, error) {
	perPage := p.cfg.perPage
	out := Served{LastScanned: after}
	scanned := 0
	for {
		if err := ctx.Err(); err != nil {
			return Served{}, err
		}
		batch, err := p.store.OrdersAfter(ctx, out.LastScanned, perPage)
		if err != nil {
			return Served{}, fmt.Errorf("pagination: reading the store after %s: %w", out.LastScanned, err)
		}
		for _, o := range batch {
			h, err := o.ComputeOrderHash()
			if err != nil {
				return Served{}, fmt.Errorf("pagination: stored order after %s: %w", out.LastScanned, err)
			}
			out.LastScanned = h
			scanned++
			if filter == nil || matches(filter, o) {
				if out.Orders == nil {
					out.Orders = make([]*zeroex.SignedOrder, 0, perPage)
				}
				out.Orders = append(out.Orders, o)
				if len(out.Orders) == perPage {
					return out, nil
				}
			}
		}
		if len(batch) < perPage {
			return out, nil // exhausted
		}
		if scanned >= p.cfg.maxScan {
			if len(out.Orders) == 0 {
				return Served{}, fmt.Errorf("%w (scanned %d orders after %s)", ErrScanLimit, scanned, after)
			}
			return out, nil
		}
	}
}

// matches reports whether o passes filter; an order the filter cannot
// evaluate does not.
func matches(filter *orderfilter.Filter, o *zeroex.SignedOrder) bool {
	ok, err := filter.MatchOrder(o)
	return ok && err == nil
}
