package paging

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// ErrScanLimit is Serve's error when it gives up on a request before
// finding an order that matches its filter: the scan reached its bound
// (WithMaxScan), or no slot for a costly filter came free
// in time (WithScanSlots). Answering an empty page instead would end the
// requester's sync as if nothing were left.
var ErrScanLimit = errors.New("pagination: scan limit reached without a matching order")

// scanCheckEvery is how many orders Serve scans between looks at its
// context and clock: about 7 ms with a filter at orderfilter's evaluation
// budget, and next to nothing per order with the default filter.
const scanCheckEvery = 32

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
// of them or the store is exhausted.
//
// A request costs a provider a bounded amount of work: the scan stops after
// WithMaxScan's orders or its time, whichever comes first; then Serve
// answers the matches it has, or fails with ErrScanLimit when it has none.
// A filter that is not trivial (orderfilter's IsTrivial) first needs one of
// the Pager's ScanSlots, and waits at most WithMaxScan's time for it, so one
// request takes at most twice that. Serve stops with ctx's error when ctx
// ends.
func (p *Pager) Serve(ctx context.Context, after common.Hash, filter *orderfilter.Filter) (Served, error) {
	if err := ctx.Err(); err != nil {
		return Served{}, err
	}
	if filter != nil && !filter.IsTrivial() {
		if err := p.cfg.slots.acquire(ctx, p.cfg.maxScanTime); err != nil {
			return Served{}, err
		}
		defer p.cfg.slots.release()
	}
	return p.scan(ctx, after, filter)
}

// scan is Serve once it may run.
func (p *Pager) scan(ctx context.Context, after common.Hash, filter *orderfilter.Filter) (Served, error) {
	perPage := p.cfg.perPage
	deadline := p.cfg.now().Add(p.cfg.maxScanTime)
	// Orders expired by the Service's rule (within its margin) are never
	// served, whether or not the store judges expiry itself.
	cutoff := p.validationOf().Expiry().Cutoff()
	out := Served{LastScanned: after}
	scanned := 0
	// giveUp ends a scan cut short by a bound.
	giveUp := func(bound string) (Served, error) {
		if len(out.Orders) == 0 {
			return Served{}, fmt.Errorf("%w (%s: scanned %d orders after %s)", ErrScanLimit, bound, scanned, after)
		}
		return out, nil
	}
	for {
		want := min(perPage, p.cfg.maxScan-scanned)
		batch, err := p.store.OrdersAfter(ctx, out.LastScanned, want)
		if err != nil {
			return Served{}, fmt.Errorf("pagination: reading the store after %s: %w", out.LastScanned, err)
		}
		for _, o := range batch {
			if scanned > 0 && scanned%scanCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return Served{}, err
				}
				if p.cfg.now().After(deadline) {
					return giveUp(fmt.Sprintf("scan time %v", p.cfg.maxScanTime))
				}
			}
			h, err := o.ComputeOrderHash()
			if err != nil {
				return Served{}, fmt.Errorf("pagination: stored order after %s: %w", out.LastScanned, err)
			}
			out.LastScanned = h
			scanned++
			if orderstore.ExpirationOf(o) > cutoff && (filter == nil || matches(filter, o)) {
				if out.Orders == nil {
					out.Orders = make([]*zeroex.SignedOrder, 0, perPage)
				}
				out.Orders = append(out.Orders, o)
				if len(out.Orders) == perPage {
					return out, nil
				}
			}
		}
		if len(batch) < want {
			return out, nil // exhausted
		}
		if scanned >= p.cfg.maxScan {
			return giveUp(fmt.Sprintf("scan bound %d orders", p.cfg.maxScan))
		}
		if err := ctx.Err(); err != nil {
			return Served{}, err
		}
	}
}

// matches reports whether o passes filter; an order the filter cannot
// evaluate does not.
func matches(filter *orderfilter.Filter, o *zeroex.SignedOrder) bool {
	ok, err := filter.MatchOrder(o)
	return ok && err == nil
}
