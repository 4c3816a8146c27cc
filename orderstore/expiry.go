package orderstore

import (
	"context"
	"math"
	"time"

	"github.com/ordersync/ordersync/zeroex"
)

// Expiry is when orders count as expired: from the moment the clock is
// within Margin of an order's ExpirationTimeSeconds. One rule, shared by
// the stores and the Service, so that peers judge an order's expiry the
// same way (0x Mesh learnt this the hard way: expired orders came back from
// peers that judged differently).
type Expiry struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Margin is how long before its expiration time an order counts as
	// expired already: time for it to reach peers and a taker. Negative
	// counts as 0.
	Margin time.Duration
}

// Cutoff is the latest expiration time, in Unix seconds, of an order
// expired now: every order whose ExpirationTimeSeconds is at most Cutoff
// is expired.
func (e Expiry) Cutoff() int64 {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	return now().Add(max(e.Margin, 0)).Unix()
}

// Expired reports whether o is expired now.
func (e Expiry) Expired(o *zeroex.SignedOrder) bool {
	return ExpirationOf(o) <= e.Cutoff()
}

// ExpirationOf is o's ExpirationTimeSeconds as Unix seconds: math.MaxInt64
// for one beyond it (such orders never expire in practice) and 0 for none
// or a negative one (which never passes zeroex's checks).
func ExpirationOf(o *zeroex.SignedOrder) int64 {
	if o == nil || o.ExpirationTimeSeconds == nil || o.ExpirationTimeSeconds.Sign() < 0 {
		return 0
	}
	if !o.ExpirationTimeSeconds.IsInt64() {
		return math.MaxInt64
	}
	return o.ExpirationTimeSeconds.Int64()
}

// Expirer is implemented by stores that drop expired orders themselves
// (Memory given WithExpiry). Such a store never returns an order that is
// expired by its Expiry, refuses expired orders in AddOrders, and reports
// what leaves on its change feed as ChangeExpired. A store that prunes in
// the background also implements io.Closer, and must be closed.
type Expirer interface {
	// Expiry returns the rule the store judges expiry by, and false when
	// it does not judge expiry (it keeps what it is given).
	Expiry() (Expiry, bool)
	// ExpireOrders drops every order expired now and returns how many it
	// dropped. The store does this by itself; a caller need not, but may.
	ExpireOrders(ctx context.Context) (int, error)
}
