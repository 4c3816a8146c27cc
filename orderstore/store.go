// Package orderstore is the order store that ordersync's subprotocols share:
// a provider pages through it, a requester adds to it. A mesh node
// implements Store over its own database; Memory is the in-memory default.
//
// Beside Store, optional interfaces say what else a store can do: Getter
// (look an order up), Remover (delete orders), Admitter (say what became
// of each order added), Subscriber (a change feed of every order added and
// removed, and why), Expirer (drop expired orders by an Expiry rule meant
// to be shared with the Service), Capped and Pinner (a bounded store that
// evicts the orders that expire last and keeps the operator's pinned
// orders), and Reconciler (keep the reconciliation index current). Memory
// implements them all; package storetest checks any store against them.
package orderstore

import (
	"context"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// Store holds signed orders keyed by order hash. Implementations must be
// safe for concurrent use.
type Store interface {
	// OrdersAfter returns up to limit orders whose hash is strictly greater
	// than after (as a 32-byte big-endian number), ascending by hash. The
	// zero hash starts from the beginning. Fewer than limit orders means
	// nothing is left.
	OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error)
	// AddOrders stores orders that the caller has validated. Adding an
	// order whose hash is already stored is a no-op. It returns how many
	// orders were new.
	//
	// A store may refuse orders by its own rules (expired, beyond its
	// MaxExpiration, its own checks): it then does not keep them and does
	// not count them in added. It must not keep an order without counting
	// it when it was new, nor change an order it holds, nor keep a copy
	// the caller changes later. The caller (ordersync's requester) treats
	// an order that the store does not hold after AddOrders, when it
	// counted fewer new than it was given, as refused: it is neither
	// counted as accepted nor announced. An error means the call as a
	// whole failed (the store is closed, ctx ended, the database failed,
	// it is full of pinned orders); a store that can should then have
	// stored nothing.
	AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (added int, err error)
}

// Getter is implemented by stores that can look up one order by its hash
// cheaply. The requester pipeline uses it to skip the signature check of an
// order it already holds with the same signature: a re-sync then costs a
// hash per order instead of a signature recovery.
type Getter interface {
	Get(hash common.Hash) (*zeroex.SignedOrder, bool)
}

// Remover is implemented by stores that can delete orders: the node's
// own code removes filled and cancelled orders through it, as 0x Mesh's
// order watcher did. Memory and sqlstore implement it.
type Remover interface {
	// Remove deletes the orders with the given hashes; hashes the store
	// does not hold are ignored. It returns how many orders it deleted.
	Remove(ctx context.Context, hashes ...common.Hash) (int, error)
}
