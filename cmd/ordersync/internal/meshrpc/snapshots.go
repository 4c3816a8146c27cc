package meshrpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// snapshot is the store's orders at one moment, in hash order, for
// mesh_getOrders to page through. Over a Memory it holds the orders
// themselves (a pointer each: the store shares its immutable orders), so
// that every page is of that moment; over another store, the hashes, and
// a page looks its orders up, leaving out those removed since.
type snapshot struct {
	id      string
	owner   string // connection key of the client that opened it
	taken   time.Time
	orders  []*zeroex.SignedOrder
	hashes  []common.Hash
	getter  orderstore.Getter
	mu      sync.Mutex
	lastUse time.Time
}

func (sn *snapshot) len() int {
	if sn.orders != nil {
		return len(sn.orders)
	}
	return len(sn.hashes)
}

// page returns the orders of page (from 0) of perPage orders.
func (sn *snapshot) page(page, perPage int) []*orderInfo {
	from := page * perPage
	if page < 0 || from >= sn.len() || from/perPage != page { // the last: overflow
		return []*orderInfo{}
	}
	to := min(from+perPage, sn.len())
	infos := make([]*orderInfo, 0, to-from)
	for i := from; i < to; i++ {
		var o *zeroex.SignedOrder
		if sn.orders != nil {
			o = sn.orders[i]
		} else if got, ok := sn.getter.Get(sn.hashes[i]); ok {
			o = got
		} else {
			continue
		}
		h, err := o.ComputeOrderHash()
		if err != nil {
			continue // a stored order has its hash cached
		}
		infos = append(infos, &orderInfo{OrderHash: h.Hex(), SignedOrder: o, FillableTakerAssetAmount: fillableWhileHeld(o)})
	}
	return infos
}

// snapshots are the open snapshots, bounded in number, each in time.
type snapshots struct {
	limits Limits
	now    func() time.Time
	mu     sync.Mutex
	byID   map[string]*snapshot
}

func newSnapshots(limits Limits, now func() time.Time) *snapshots {
	return &snapshots{limits: limits, now: now, byID: make(map[string]*snapshot)}
}

// errTooManySnapshots is the answer when MaxSnapshots are open.
var errTooManySnapshots = &rpcError{code: -32000, msg: "too many snapshots open: page through an open one to its end, or wait for one to expire"}

// errSnapshotNotFound is the answer for an unknown or expired snapshot ID,
// as Mesh answered it: the client starts over with a new snapshot.
var errSnapshotNotFound = &rpcError{code: -32000, msg: "no snapshot with that ID (it expired or was paged to its end): ask again with an empty snapshotID"}

// open registers sn under a new ID, making room in its owner's share.
func (c *snapshots) open(sn *snapshot) error {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	sn.id = hex.EncodeToString(id[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	var oldest *snapshot
	owned := 0
	for _, o := range c.byID {
		if o.owner == sn.owner {
			owned++
			if oldest == nil || o.taken.Before(oldest.taken) {
				oldest = o
			}
		}
	}
	if owned >= c.limits.MaxSnapshotsPerConn {
		delete(c.byID, oldest.id)
	} else if len(c.byID) >= c.limits.MaxSnapshots {
		return errTooManySnapshots
	}
	c.byID[sn.id] = sn
	return nil
}

// get returns the snapshot of id, keeping it alive.
func (c *snapshots) get(id string) (*snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	sn, ok := c.byID[id]
	if ok {
		sn.lastUse = c.now()
	}
	return sn, ok
}

func (c *snapshots) close(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, id)
}

// count is how many snapshots are open.
func (c *snapshots) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

func (c *snapshots) expireLocked() {
	now := c.now()
	for id, sn := range c.byID {
		if now.Sub(sn.lastUse) > c.limits.SnapshotIdle || now.Sub(sn.taken) > c.limits.SnapshotLifetime {
			delete(c.byID, id)
		}
	}
}

// expireLoop drops expired snapshots, so that their memory goes back
// even when no client calls again, until ctx ends.
func (c *snapshots) expireLoop(ctx context.Context) {
	t := time.NewTicker(min(c.limits.SnapshotIdle, 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.mu.Lock()
			c.expireLocked()
			c.mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// take makes a snapshot of store for owner.
func take(ctx context.Context, store orderstore.Store, owner string, now time.Time) (*snapshot, error) {
	sn := &snapshot{owner: owner, taken: now, lastUse: now}
	if m, ok := store.(*orderstore.Memory); ok {
		// One call under one read lock: a consistent moment.
		orders, err := m.OrdersAfter(ctx, common.Hash{}, m.Len()+1024)
		if err != nil {
			return nil, err
		}
		sn.orders = orders
		if sn.orders == nil {
			sn.orders = []*zeroex.SignedOrder{}
		}
		return sn, nil
	}
	getter, ok := store.(orderstore.Getter)
	if !ok {
		// Without lookups, keep the orders themselves.
		return takeAll(ctx, store, sn)
	}
	sn.getter = getter
	sn.hashes = []common.Hash{}
	var after common.Hash
	for {
		orders, err := store.OrdersAfter(ctx, after, 10000)
		if err != nil {
			return nil, err
		}
		for _, o := range orders {
			h, err := o.ComputeOrderHash()
			if err != nil {
				return nil, err
			}
			sn.hashes = append(sn.hashes, h)
			after = h
		}
		if len(orders) < 10000 {
			return sn, nil
		}
	}
}

func takeAll(ctx context.Context, store orderstore.Store, sn *snapshot) (*snapshot, error) {
	sn.orders = []*zeroex.SignedOrder{}
	var after common.Hash
	for {
		orders, err := store.OrdersAfter(ctx, after, 10000)
		if err != nil {
			return nil, err
		}
		sn.orders = append(sn.orders, orders...)
		if len(orders) < 10000 {
			return sn, nil
		}
		after, err = orders[len(orders)-1].ComputeOrderHash()
		if err != nil {
			return nil, err
		}
	}
}
