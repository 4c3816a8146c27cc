package meshrpc

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/ordersync/ordersync/orderstore"
)

// Orders is mesh_subscribe to "orders": every order the store adds (ADDED)
// and every order that leaves it (EXPIRED, or STOPPED_WATCHING when it was
// removed or evicted), in the store's order, several to a notification
// when they come fast. A subscriber that falls EventBuffer changes behind
// is dropped with its connection: a client that misses events must know,
// and reconnecting tells it.
func (a *api) Orders(ctx context.Context) (*rpc.Subscription, error) {
	s := a.s
	notifier, key, err := s.subscribing(ctx)
	if err != nil {
		return nil, err
	}
	var feed *orderstore.Subscription
	if sub, ok := s.cfg.Store.(orderstore.Subscriber); ok {
		feed = sub.Subscribe(s.limits.EventBuffer)
	} else {
		feed = s.ownFeed.Subscribe(s.limits.EventBuffer)
	}
	rpcSub := notifier.CreateSubscription()
	s.goSafe("orders subscription", func() {
		defer s.conns.removeSubscription(key)
		defer feed.Close()
		s.streamOrders(notifier, rpcSub, feed, key)
	})
	return rpcSub, nil
}

// streamOrders sends feed's changes to rpcSub until the client
// unsubscribes or goes, the store closes or the server stops.
func (s *Server) streamOrders(notifier *rpc.Notifier, rpcSub *rpc.Subscription, feed *orderstore.Subscription, key string) {
	for {
		var events []*orderEvent
		select {
		case <-rpcSub.Err():
			return
		case <-s.ctx.Done():
			return
		case c, ok := <-feed.Changes():
			if !ok {
				return
			}
			events = append(events, eventOf(c, s.cfg.Now()))
		}
	drain:
		for len(events) < s.limits.MaxEventsPerNotification {
			select {
			case c, ok := <-feed.Changes():
				if !ok {
					break drain
				}
				events = append(events, eventOf(c, s.cfg.Now()))
			default:
				break drain
			}
		}
		if s.droppedBehind(feed, key) {
			return
		}
		// Notify waits for the connection's write (go-ethereum bounds it
		// at 10 s and closes the connection when it fails).
		if err := notifier.Notify(rpcSub.ID, events); err != nil {
			s.droppedBehind(feed, key)
			return
		}
	}
}

// droppedBehind drops the subscriber on key's connection if it missed
// changes, and says so.
func (s *Server) droppedBehind(feed *orderstore.Subscription, key string) bool {
	missed := feed.Missed()
	if missed == 0 {
		return false
	}
	s.log.Warnf("rpc: dropped an orders subscriber on %s: it fell %d changes behind", key, missed)
	s.conns.drop(key)
	return true
}

// eventOf is the order event of a store change seen at now.
func eventOf(c orderstore.Change, now time.Time) *orderEvent {
	e := &orderEvent{
		Timestamp:                now.UTC(),
		OrderHash:                c.Hash.Hex(),
		SignedOrder:              c.Order,
		FillableTakerAssetAmount: fillableGone,
		ContractEvents:           []struct{}{},
	}
	switch c.Kind {
	case orderstore.ChangeAdded:
		e.EndState = endAdded
		e.FillableTakerAssetAmount = fillableWhileHeld(c.Order)
	case orderstore.ChangeExpired:
		e.EndState = endExpired
	default: // removed, evicted
		e.EndState = endStoppedWatching
	}
	return e
}

// Heartbeat is mesh_subscribe to "heartbeat": "tick" at once and then every
// Limits.Heartbeat, by which Mesh's clients tell a live connection.
func (a *api) Heartbeat(ctx context.Context) (*rpc.Subscription, error) {
	s := a.s
	notifier, key, err := s.subscribing(ctx)
	if err != nil {
		return nil, err
	}
	rpcSub := notifier.CreateSubscription()
	s.goSafe("heartbeat subscription", func() {
		defer s.conns.removeSubscription(key)
		t := time.NewTicker(s.limits.Heartbeat)
		defer t.Stop()
		for {
			if err := notifier.Notify(rpcSub.ID, "tick"); err != nil {
				return
			}
			select {
			case <-rpcSub.Err():
				return
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return rpcSub, nil
}

// subscribing checks that a subscription may start on ctx's connection
// and counts it there.
func (s *Server) subscribing(ctx context.Context) (*rpc.Notifier, string, error) {
	notifier, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, "", rpc.ErrNotificationsUnsupported
	}
	key := connKey(ctx)
	if !s.conns.addSubscription(key, s.limits.MaxSubscriptionsPerConn) {
		return nil, "", &rpcError{code: -32000, msg: fmt.Sprintf("too many subscriptions on this connection: at most %d", s.limits.MaxSubscriptionsPerConn)}
	}
	return notifier, key, nil
}
