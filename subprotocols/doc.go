// Package subprotocols is the home of the ordersync subprotocols that the
// 0x Mesh network speaks; this package itself holds no code. A node builds
// both over its store, most preferred first, as existing nodes do:
//
//	store := orderstore.NewMemory()
//	opts := []pagination.Option{pagination.WithPeerScorer(node)}
//	subs := []ordersync.Subprotocol{
//		filteredpagination.New(store, filter, opts...), // "/pagination-with-filter/version/1"
//		ordinal.New(store, filter, opts...),            // "/pagination-with-filter/version/0"
//	}
//	service := ordersync.New(ctx, node, subs)
//
// Package pagination holds what both share: the provider's scan, the
// requester's validation pipeline, its Stats and the Options.
package subprotocols
