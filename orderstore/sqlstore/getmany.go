package sqlstore

import (
	"context"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

var _ orderstore.ManyGetter = (*Store)(nil)

// hashesPerLookup is how many hashes one GetMany query asks for: a
// requester's page, well below either database's parameter limit.
const hashesPerLookup = 500

// GetMany returns the stored order of each hash, nil where the store holds
// none: one query per 500 hashes (on PostgreSQL one in all), where Get is
// one per hash (a round trip each on PostgreSQL).
func (s *Store) GetMany(ctx context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error) {
	if s.d.arrays {
		return s.getManyArray(ctx, hashes)
	}
	out := make([]*zeroex.SignedOrder, len(hashes))
	found := make(map[common.Hash]*zeroex.SignedOrder, min(len(hashes), hashesPerLookup))
	for start := 0; start < len(hashes); start += hashesPerLookup {
		chunk := hashes[start:min(start+hashesPerLookup, len(hashes))]
		clear(found)
		args := make([]any, len(chunk))
		var q strings.Builder
		q.WriteString("SELECT hash, order_json FROM orders WHERE hash IN (")
		for i, h := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(s.d.placeholder(i + 1))
			args[i] = h.Bytes()
		}
		q.WriteByte(')')
		live, cutoff := s.liveOnly(len(chunk) + 1)
		q.WriteString(live)
		if err := s.lookupInto(ctx, q.String(), append(args, cutoff...), found); err != nil {
			return nil, err
		}
		for i, h := range chunk {
			out[start+i] = found[h]
		}
	}
	return out, nil
}

// lookupInto runs a GetMany query and puts each order found into found.
func (s *Store) lookupInto(ctx context.Context, query string, args []any, found map[common.Hash]*zeroex.SignedOrder) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return s.readError(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return s.errorf("%w", err)
		}
		h, _ := o.ComputeOrderHash() // Cached by scanOrder.
		found[h] = o
	}
	return s.readError(ctx, rows.Err())
}
