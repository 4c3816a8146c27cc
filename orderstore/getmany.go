package orderstore

import (
	"context"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// ManyGetter is a Getter that looks up many hashes in one call. A database
// answers a page's hashes in one query where Get costs a round trip each:
// the requester pipeline uses GetMany when a store has it.
type ManyGetter interface {
	Getter
	// GetMany returns the stored order of each hash, in the order of
	// hashes, nil where the store holds none.
	GetMany(ctx context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error)
}

var _ ManyGetter = (*Memory)(nil)

// GetMany returns the stored order of each hash, nil where there is none.
func (m *Memory) GetMany(_ context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error) {
	out := make([]*zeroex.SignedOrder, len(hashes))
	for i, h := range hashes {
		out[i], _ = m.Get(h)
	}
	return out, nil
}
