package reconcile

import (
	"context"
	"math"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
)

// localSet is the requester's side of a reconciliation: the orders it
// holds that match its filter, plus the hashes it recently rejected.
type localSet struct {
	source riblt.Source
	digest riblt.Digest
	// ownRejected are the hashes in the set because the provider this set
	// is for sent copies of them that were rejected for what a copy can
	// fake: a provider still holding them is not one we are in sync with.
	ownRejected []common.Hash
}

// ownScanTime is the budget of a scan of the requester's own store: none.
const ownScanTime = 100 * 365 * 24 * time.Hour

// scanOwn reads the hashes of the requester's own orders that match its
// filter. It is the requester's own store: no budget.
func (s *Subprotocol) scanOwn(ctx context.Context) ([]riblt.Item, error) {
	return s.scan(ctx, s.filter, nil, math.MaxInt, ownScanTime)
}

// rejectedNotHeld returns the rejected hashes that count as held with
// provider and that the store does not hold (another provider may have
// delivered a valid copy since): those rejected for every provider, and
// those rejected from provider alone (own).
func (s *Subprotocol) rejectedNotHeld(provider peer.ID) (all, own []common.Hash) {
	all, own = s.rejected.list(provider)
	getter, ok := s.store.(orderstore.Getter)
	if !ok {
		return all, own
	}
	notHeld := func(list []common.Hash) []common.Hash {
		kept := list[:0]
		for _, h := range list {
			if _, held := getter.Get(h); !held {
				kept = append(kept, h)
			}
		}
		return kept
	}
	return notHeld(all), notHeld(own)
}

// newLocalSet reads the local set: from the store's index when it has one
// of the set (the filter's class, or every order without a filter) and
// scan is false, by scanning otherwise.
func (s *Subprotocol) newLocalSet(ctx context.Context, provider peer.ID, scan bool) (*localSet, error) {
	ls := &localSet{}
	if ix, ok := fromIndex(s.store, s.filter, riblt.DefaultIndexSymbols); ok && !scan {
		versioned := s.store.(orderstore.Versioned) // every index is
		ls.digest = ix.digest
		ls.source = riblt.Prefixed(ix.prefix, func() *riblt.Encoder {
			// Its own store: no budget, as in scanOwn.
			hashes, err := s.scan(context.Background(), nil, ix.class, math.MaxInt, ownScanTime)
			if err != nil || versioned.Version() != ix.version || len(hashes) != ix.count {
				return nil // the store moved on: Decoder.Add fails, the sync pages
			}
			return riblt.NewEncoder(hashes)
		})
	}
	if ls.source == nil {
		hashes, err := s.scanOwn(ctx)
		if err != nil {
			return nil, err
		}
		for i := range hashes {
			ls.digest.AddItem(&hashes[i])
		}
		ls.source = riblt.NewEncoder(hashes)
	}
	rejected, own := s.rejectedNotHeld(provider)
	ls.ownRejected = own
	rejected = append(rejected, own...)
	if len(rejected) > 0 {
		items := make([]riblt.Item, len(rejected))
		for i, h := range rejected {
			items[i] = riblt.Item(h)
			ls.digest.AddItem(&items[i])
		}
		ls.source = riblt.Union(ls.source, riblt.NewEncoder(items))
	}
	return ls, nil
}
