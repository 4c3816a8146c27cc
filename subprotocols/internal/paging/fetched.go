package paging

import (
	"bytes"
	"context"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/zeroex"
)

// AcceptFetched runs orders fetched by hash from provider (not a page of a
// range: announced orders, say) through the requester pipeline exactly as
// Accept runs a page: well-formedness, signatures, the filter, the node's
// checks, the store, the counts, the scores and WithOnAccepted. The orders
// are put in hash order first, so that order is never held against the
// provider; a hash given twice is out of range, as in a page. The cursor
// table is neither read nor moved.
func (p *Pager) AcceptFetched(ctx context.Context, provider peer.ID, orders []*zeroex.SignedOrder) (Accepted, error) {
	sorted := slices.Clone(orders)
	slices.SortStableFunc(sorted, func(a, b *zeroex.SignedOrder) int {
		ha, hb := sortKey(a), sortKey(b)
		return bytes.Compare(ha[:], hb[:])
	})
	return p.take(ctx, Page{Provider: provider, Orders: sorted, Complete: true}, common.Hash{}, false)
}

// sortKey is o's hash (cached on the order), or the zero hash for a nil
// or malformed order, which the pipeline refuses anyway.
func sortKey(o *zeroex.SignedOrder) common.Hash {
	if o == nil {
		return common.Hash{}
	}
	h, _ := o.ComputeOrderHash()
	return h
}
