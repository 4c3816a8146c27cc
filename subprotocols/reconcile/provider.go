package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// HandleOrderSyncRequest answers a request as a provider (see the package
// documentation for the exchange). It keeps nothing per requester: every
// request names what it needs, and snapshots are shared.
func (s *Subprotocol) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	md, err := requestMetadata(req)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch md.Op {
	case OpFetch:
		return s.serveFetch(ctx, md)
	case OpPage:
		return s.servePage(ctx, md.After, md)
	default:
		res, err := s.serveSketch(ctx, req.RequesterID, md)
		if err != nil {
			return nil, err
		}
		if m, ok := res.Metadata.(*ResponseMetadata); ok && m.Op == OpSketch {
			// A provider cannot tell the differences: only the requester
			// decodes.
			s.metrics().ReconciliationRound(req.RequesterID, ordersync.RoleProvider, Name, 0)
		}
		return res, nil
	}
}

// serveSketch answers with coded symbols, or with a first page when the
// requester holds too little for reconciliation to pay.
func (s *Subprotocol) serveSketch(ctx context.Context, requester peer.ID, md *RequestMetadata) (*ordersync.Response, error) {
	if md.List {
		if res, err := s.serveList(ctx, requester, md); res != nil || err != nil {
			return res, err
		}
	}
	var sn *snapshot
	first := md.Snapshot == 0
	if !first {
		sn = s.snapshots.byID(md.Snapshot)
	}
	if sn == nil {
		var err error
		sn, err = s.snapshots.current(ctx, md.OrderFilter, false)
		if errors.Is(err, errScanBudget) && first {
			return s.servePage(ctx, nil, md)
		}
		if err != nil {
			return nil, err
		}
		if first && sn.count > 0 && pageInstead(md.Held, sn.count) {
			return s.servePage(ctx, nil, md)
		}
		if res := sameAnswer(md, sn); res != nil {
			return res, nil
		}
		first = true // a new snapshot starts at symbol 0
	}
	from, count := md.From, md.Count
	if first {
		from = 0
		if count == 0 {
			count = firstBatch(md.Held, sn.count)
		}
		if md.Most > 0 {
			count = min(count, md.Most)
		}
	}
	count = min(count, MaxSymbolsPerResponse, MaxSymbols-from)
	if sn.count == 0 {
		count = 0 // nothing to reconcile: the requester is done
	}
	count, err := s.budgets.take(ctx, requester, count)
	if err != nil {
		return nil, err
	}
	syms, ok, err := sn.symbols(ctx, s, from, from+count)
	if errors.Is(err, errScanBudget) && from == 0 {
		return s.servePage(ctx, nil, md) // the store is too slow to read: page
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		// The store moved on and the snapshot cannot be extended: start
		// the requester over on a snapshot of its own hashes. The indexed
		// snapshot stays cached: other requesters still read its prefix,
		// and dropped, each of them would start over too (and after a few
		// such restarts page the whole book).
		sn, err = s.snapshots.current(ctx, md.OrderFilter, true)
		if err != nil {
			return nil, err
		}
		from = 0
		if syms, ok, err = sn.symbols(ctx, s, 0, count); err != nil || !ok {
			return nil, fmt.Errorf("reconcile: the store changes too fast to snapshot: %v", err)
		}
	}
	out := &ResponseMetadata{Op: OpSketch, Snapshot: sn.id, Total: sn.count, From: from,
		Symbols: riblt.AppendSymbols(make([]byte, 0, len(syms)*riblt.SymbolSize), syms)}
	if from == 0 {
		out.Digest, out.HeldSets = riblt.AppendDigest(nil, &sn.digest), true
	}
	return &ordersync.Response{Orders: []*zeroex.SignedOrder{}, Metadata: out}, nil
}

// pageInstead reports whether a requester holding held orders, of a
// provider's total, is better served by pages: reconciling costs about
// 1.1 kB per missing order against 955 bytes paged, so it pays while the
// requester holds a tenth or more.
func pageInstead(held, total int) bool { return held < total/10 }

// firstBatch is how many symbols a sync's first answer carries: enough to
// decode the difference that the two counts show with high probability (1.4
// symbols per difference, and a margin), but at least a few, for a
// difference the counts hide. held is the requester's word, any
// non-negative int: the difference is capped at MaxSymbols before the
// margin is added, so no claim makes the count overflow (a held near the
// largest int once made it negative, and the provider panicked slicing its
// symbols).
//
// Nor does a claim beyond the provider's own count draw more: the
// difference is taken as at most total, what the provider can vouch for.
// A requester that really holds many more orders than the provider asks
// for more symbols in the next rounds, as for any difference the counts
// hide.
func firstBatch(held, total int) int {
	d := total - held // both are non-negative: no overflow
	if d < 0 {
		d = -d
	}
	d = min(d, total, MaxSymbols)
	return min(12+d+d/2, MaxSymbolsPerResponse)
}

// serveFetch answers with the orders of the hashes asked for that the
// store holds and that match the filter, in the order asked.
func (s *Subprotocol) serveFetch(ctx context.Context, md *RequestMetadata) (*ordersync.Response, error) {
	// The requester's filter runs on up to MaxFetch orders: a costly one
	// takes a scan slot, as a snapshot's scan does.
	release, err := s.pager.HoldScanSlot(ctx, md.OrderFilter, s.cfg.maxScanTime)
	if err != nil {
		return nil, err
	}
	defer release()
	hashes := md.Hashes
	if len(md.Positions) > 0 {
		var gone bool
		if hashes, gone, err = s.positionHashes(ctx, md); err != nil {
			return nil, err
		}
		if gone {
			return &ordersync.Response{Orders: []*zeroex.SignedOrder{}, Metadata: &ResponseMetadata{Op: OpFetch, Gone: true}}, nil
		}
	}
	n := len(hashes) / 32
	orders := make([]*zeroex.SignedOrder, 0, n)
	getter, _ := s.store.(orderstore.Getter)
	// A hash named twice is answered once: a fetch naming one hash 500
	// times once drew 500 copies of its order.
	seen := make(map[common.Hash]struct{}, n)
	// An order expired by the Service's rule is never served, even when
	// the set it was reconciled from still held it.
	expiry := s.pager.Expiry()
	for i := 0; i < n; i++ {
		var h common.Hash
		copy(h[:], hashes[32*i:])
		if _, dup := seen[h]; dup {
			continue
		}
		seen[h] = struct{}{}
		o, err := s.lookup(ctx, getter, h)
		if err != nil {
			return nil, err
		}
		if o != nil && !expiry.Expired(o) && wanted(o, md.OrderFilter, nil) {
			orders = append(orders, o)
		}
	}
	return &ordersync.Response{Orders: orders, Metadata: &ResponseMetadata{Op: OpFetch}}, nil
}

// positionHashes reads the hashes a fetch names by positions from the
// snapshot it names; gone when that snapshot is gone or can no longer be
// read as it was. A position past the snapshot is an error.
func (s *Subprotocol) positionHashes(ctx context.Context, md *RequestMetadata) (hashes []byte, gone bool, err error) {
	sn := s.snapshots.byID(md.Snapshot)
	if sn == nil {
		return nil, true, nil
	}
	enc, err := sn.encoder(ctx, s)
	if err != nil || enc == nil {
		return nil, err == nil, err
	}
	positions, err := parsePositions(md.Positions, MaxFetch, enc.Len())
	if err != nil {
		return nil, false, fmt.Errorf("reconcile: fetch of snapshot %d: %w", md.Snapshot, err)
	}
	hashes = make([]byte, 0, 32*len(positions))
	for _, p := range positions {
		x := enc.Item(p)
		hashes = append(hashes, x[:]...)
	}
	return hashes, false, nil
}

// lookup returns the stored order with hash h, or nil.
func (s *Subprotocol) lookup(ctx context.Context, getter orderstore.Getter, h common.Hash) (*zeroex.SignedOrder, error) {
	if getter != nil {
		o, _ := getter.Get(h)
		return o, nil
	}
	// The first order after the hash just below h is h's, if stored.
	below, ok := predecessor(h)
	if !ok {
		return nil, nil
	}
	got, err := s.store.OrdersAfter(ctx, below, 1)
	if err != nil {
		return nil, fmt.Errorf("reconcile: reading the store: %w", err)
	}
	if len(got) == 1 {
		if gh, err := got[0].ComputeOrderHash(); err == nil && bytes.Equal(gh[:], h[:]) {
			return got[0], nil
		}
	}
	return nil, nil
}

// predecessor is h-1 as a 256-bit number; false for the zero hash.
func predecessor(h common.Hash) (common.Hash, bool) {
	if h == (common.Hash{}) {
		return h, false
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] > 0 {
			h[i]--
			break
		}
		h[i] = 0xff
	}
	return h, true
}

// servePage answers a page after the cursor, as v1 does: complete when it
// has no orders.
func (s *Subprotocol) servePage(ctx context.Context, after []byte, md *RequestMetadata) (*ordersync.Response, error) {
	var cursor common.Hash
	copy(cursor[:], after)
	page, err := s.pager.Serve(ctx, cursor, md.OrderFilter)
	if err != nil {
		return nil, err
	}
	orders := page.Orders
	if orders == nil {
		orders = []*zeroex.SignedOrder{}
	}
	return &ordersync.Response{
		Orders:   orders,
		Complete: len(orders) == 0,
		Metadata: &ResponseMetadata{Op: OpPage, Next: page.LastScanned[:]},
	}, nil
}
