package reconcile

import (
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
)

// indexed is a snapshot read from a store's reconciliation index.
type indexed struct {
	version uint64
	count   int
	digest  riblt.Digest
	prefix  []riblt.Symbol
	class   *orderstore.Class // nil: every order
}

// fromIndex reads the store's index of the set filter selects, with at most
// symbols coded symbols: of the filter's class when its custom schema
// accepts everything, of every order when there is no filter. It reports
// false when the store keeps no index of that set: the caller scans.
func fromIndex(store orderstore.Store, filter *orderfilter.Filter, symbols int) (indexed, bool) {
	var snap orderstore.ReconcileSnapshot
	var class *orderstore.Class
	switch rec, ok := store.(orderstore.Reconciler); {
	case ok && filter.IsTrivial():
		class = &orderstore.Class{ChainID: int64(filter.ChainID()), Exchange: filter.ExchangeAddress()}
		snap = rec.ReconcileSnapshot(*class, symbols)
	case filter == nil:
		whole, ok := store.(orderstore.WholeReconciler)
		if !ok {
			return indexed{}, false
		}
		snap = whole.ReconcileSnapshotAll(symbols)
	default:
		return indexed{}, false
	}
	b, _ := snap.Digest.AppendBinary(nil)
	digest, err := riblt.ParseDigest(b, snap.Digest.Count())
	if err != nil { // orderstore made it: cannot happen
		return indexed{}, false
	}
	prefix := make([]riblt.Symbol, len(snap.Symbols))
	for i, s := range snap.Symbols {
		prefix[i] = riblt.Symbol(s)
	}
	return indexed{version: snap.Version, count: snap.Count, digest: digest, prefix: prefix, class: class}, true
}
