package filteredpagination

import (
	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// Name is the subprotocol's name on the wire.
const Name = "/pagination-with-filter/version/1"

// Subprotocol is "/pagination-with-filter/version/1" over a store:
// package pagination's Subprotocol with this package's metadata and its
// order-hash cursor (see pagination.Subprotocol for its methods). It
// implements ordersync.Subprotocol and is safe for concurrent use; use one
// per node.
type Subprotocol = pagination.Subprotocol[RequestMetadata, ResponseMetadata]

var (
	_ ordersync.Subprotocol     = (*Subprotocol)(nil)
	_ ordersync.SyncResetter    = (*Subprotocol)(nil)
	_ ordersync.Pipeliner       = (*Subprotocol)(nil)
	_ ordersync.MetricsReporter = (*Subprotocol)(nil)
	_ pagination.PeerScorer     = ordersync.Node(nil) // a node scores its providers itself

	_ pagination.Codec[RequestMetadata, ResponseMetadata] = codec{}
)

// New returns the subprotocol over store. As a provider it serves store's
// orders; as a requester it stores the orders it receives there, keeping
// only those that match filter (nil keeps every valid order) and sending
// filter to providers. It panics if an option is invalid (see
// pagination.CheckOptions).
func New(store orderstore.Store, filter *orderfilter.Filter, opts ...pagination.Option) *Subprotocol {
	return pagination.New(codec{}, store, filter, opts...)
}
