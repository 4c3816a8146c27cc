// Package subprotocols is the home of the ordersync subprotocols that the
// 0x Mesh network speaks; this package itself holds no code. A node builds
// them over its store, most preferred first (the pagination ones as
// existing nodes do):
//
//	store := orderstore.NewMemory()
//	opts := []pagination.Option{pagination.WithPeerScorer(node)}
//	subs := []ordersync.Subprotocol{
//		reconcile.New(store, filter, reconcile.WithPeerScorer(node)), // "/reconcile-riblt/version/1"
//		filteredpagination.New(store, filter, opts...), // "/pagination-with-filter/version/1"
//		ordinal.New(store, filter, opts...),            // "/pagination-with-filter/version/0"
//	}
//	service := ordersync.New(ctx, node, subs)
//
// Package reconcile is this library's own third subprotocol: set
// reconciliation, so that a re-sync costs the difference. Package
// pagination implements the pagination ones once (the provider's scan, the
// requester's validation pipeline, the Options); filteredpagination and
// ordinal hold only their metadata and how it writes the cursor.
package subprotocols
