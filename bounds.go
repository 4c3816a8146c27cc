package ordersync

import "fmt"

// This file is the requester's per-sync bounds (WithMaxPagesPerSync,
// WithMaxOrdersPerSync), checked before a page reaches the subprotocol.

// checkBounds cuts off a provider whose response would take the sync past
// its bounds, before the page is handed to the subprotocol. A response that
// ends its lane (the one that completes the sync, and with lanes the last
// of each lane) always passes and is not counted, so a provider holding
// exactly the most orders (or pages) a sync takes is synced in full.
func (ps *peerSync) checkBounds(resp *Response, endsLane bool) error {
	if resp.Complete || endsLane {
		return nil
	}
	cfg := &ps.s.cfg
	if ps.pages+1 > cfg.maxPagesPerSync {
		return fmt.Errorf("%w: %d pages from %s without a complete response", ErrTooManyPages, ps.pages, ps.p)
	}
	if ps.orders+len(resp.Orders) > cfg.maxOrdersPerSync {
		return fmt.Errorf("%w: %d orders from %s, and %d more, without a complete response", ErrTooManyOrders, ps.orders, ps.p, len(resp.Orders))
	}
	return nil
}
