package orderstore

import (
	"context"
	"errors"
	"time"

	"github.com/ordersync/ordersync/zeroex"
)

// Admission is what became of one order given to a store.
type Admission uint8

// The admissions. Only Admitted is a new order; the Refused ones were not
// kept.
const (
	// Admitted: the order is new and stored.
	Admitted Admission = iota + 1
	// AlreadyHeld: the store held the order already (or an earlier copy
	// in the same call); nothing changed.
	AlreadyHeld
	// RefusedExpired: the order is expired by the store's Expiry.
	RefusedExpired
	// RefusedMaxExpiration: the store is full and the order expires after
	// its MaxExpiration, or it was the one evicted to make room.
	RefusedMaxExpiration
)

// String is the admission's name, lower case, fit for a metric label.
func (a Admission) String() string {
	switch a {
	case Admitted:
		return "admitted"
	case AlreadyHeld:
		return "already_held"
	case RefusedExpired:
		return "expired"
	case RefusedMaxExpiration:
		return "max_expiration"
	}
	return "unknown"
}

// Admitter is implemented by stores that say, order by order, what
// AddOrders did: a caller counts only Admitted orders as new and treats
// the Refused ones as rejected, with the admission as the reason.
//
// ordersync's requester does not call it: it calls AddOrders and, when
// fewer orders were new than given, looks up which the store holds
// (ManyGetter, Getter), so that a store that embeds Memory and refuses
// orders in an AddOrders of its own is obeyed (an embedded AdmitOrders
// would bypass that AddOrders). Admitter is for a node's own code that
// adds orders and wants each one's fate.
type Admitter interface {
	// AdmitOrders is AddOrders, returning one Admission per order, in
	// the orders' order, instead of a count.
	AdmitOrders(ctx context.Context, orders []*zeroex.SignedOrder) ([]Admission, error)
}

// ErrFull is the error of a store that cannot make room for an order: it
// holds as many orders as it may, all of them pinned. Errors wrapping it
// say how many.
var ErrFull = errors.New("orderstore: full of pinned orders")

// Pinner is implemented by stores that can pin orders: orders the node's
// operator added, which the store keeps before any other when it is full
// (0x Mesh's pinned orders). Pinning matters only to a store with a
// capacity.
type Pinner interface {
	// AddPinnedOrders is AddOrders for pinned orders: they are stored
	// even beyond MaxExpiration, evicted never, and an order held already
	// becomes pinned. When pinned orders alone would pass the capacity it
	// fails with an error wrapping ErrFull and stores nothing.
	AddPinnedOrders(ctx context.Context, orders []*zeroex.SignedOrder) (added int, err error)
}

// Capped is implemented by stores that hold at most a number of orders, as
// 0x Mesh's database did. When an order arrives at a full store, the
// orders that expire last (pinned ones aside) are evicted, reported as
// ChangeEvicted, and the store accepts from then on only orders that
// expire before the earliest of them: its MaxExpiration, which the node
// reports so that peers need not send what it would refuse (Mesh's
// maxExpirationTime). Once the store has room again, after orders expired
// or were removed, it accepts any expiration. A store whose orders are all
// pinned cannot make room: AddOrders of a new order then fails with an
// error wrapping ErrFull.
type Capped interface {
	// Capacity is the most orders the store holds; 0 when it has no
	// bound.
	Capacity() int
	// MaxExpiration returns the latest expiration time an order that is
	// not pinned may have to be stored, and false while the store accepts
	// any.
	MaxExpiration() (time.Time, bool)
}
