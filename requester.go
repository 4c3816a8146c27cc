package ordersync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"
)

// GetOrders syncs with connected peers, in random order and at most
// minPeers at once (no more than are still missing), until minPeers
// distinct peers have each finished a sync that counts: one that delivered
// at least one valid order, as the original rule says, or, with a
// subprotocol that reconciles (InSyncReporter), one that showed that this
// node holds every order of the peer's set that it did not reject, even
// when other peers delivered them (the syncs of one call share the work:
// see the package documentation). Between rounds it waits with
// exponential backoff (WithBackoff). A sync that broke off is resumed, in a
// later round, from the last request it got to.
//
// It returns nil once minPeers peers have synced, and otherwise:
//   - after Close, or when Close cuts it off, an error for which
//     errors.Is(err, ErrClosed) holds;
//   - when ctx ends, an error for which errors.Is(err, ctx.Err()) holds and,
//     if no peer delivered a valid order in this call, errors.Is(err,
//     ErrNoOrders) too; it returns promptly, cutting off the syncs under way;
//   - ErrTooFewPeers (wrapped) when a backoff schedule set with
//     WithBackoffFactory stops;
//   - ErrInvalidMinPeers (wrapped) when minPeers is below 1;
//   - ErrStore (wrapped) when a round ended short of minPeers and a sync
//     in it failed because the node's own store did.
//
// Errors of syncs with single peers (ErrNoOrdersFromPeer,
// ErrInvalidMessage, ErrMessageTooLarge, ErrTooManyPages, ErrTooManyOrders,
// stream errors) are not returned: they are logged, scored and shown by
// Stats, and GetOrders goes on with other peers.
func (s *Service) GetOrders(ctx context.Context, minPeers int) error {
	start := time.Now()
	before := s.Stats()
	r := &getOrdersRun{s: s, minPeers: minPeers, synced: make(map[peer.ID]bool)}
	err := r.run(ctx)
	s.tracer.GetOrdersEnded(r.syncedCount(), minPeers, time.Since(start), err)
	s.logRound("ordersync: GetOrders ended", r.syncedCount(), minPeers, before)
	return err
}

// run is GetOrders.
func (r *getOrdersRun) run(ctx context.Context) error {
	s, minPeers := r.s, r.minPeers
	if minPeers < 1 {
		return fmt.Errorf("%w: got %d", ErrInvalidMinPeers, minPeers)
	}
	if !s.life.enter() {
		return callErrorf("GetOrders", "%w", ErrClosed)
	}
	defer s.life.leave()
	ctx, cancel := s.life.bind(ctx)
	defer cancel()
	bo := s.cfg.backoffFactory()
	bo.Reset()
	for round := 1; ; round++ {
		if ctx.Err() != nil {
			return r.stopped(ctx)
		}
		r.runRound(ctx, round)
		if r.enough() {
			return nil
		}
		if err := r.storeFailure(); err != nil {
			// Retrying would fail the same way, and never return.
			return callErrorf("GetOrders", "synced with %d of %d peers: %w", r.syncedCount(), minPeers, err)
		}
		if ctx.Err() != nil {
			return r.stopped(ctx)
		}
		wait := bo.NextBackOff()
		if wait == backoff.Stop {
			return fmt.Errorf("%w: synced with %d of %d peers in %d rounds", ErrTooFewPeers, len(r.synced), minPeers, round)
		}
		s.log.WithFields(logrus.Fields{"round": round, "synced": len(r.synced), "minPeers": minPeers, "wait": wait}).Debug("ordersync: too few peers synced, waiting")
		select {
		case <-s.cfg.after(wait):
		case <-ctx.Done():
			return r.stopped(ctx)
		}
	}
}

// getOrdersRun is the state of one GetOrders call.
type getOrdersRun struct {
	s        *Service
	minPeers int

	mu        sync.Mutex
	synced    map[peer.ID]bool
	gotOrders bool  // some peer delivered a valid order
	storeErr  error // a sync's ErrStore, if any
}

// storeFailure is the error of a sync of this call that failed because
// the node's own store did, if one did.
func (r *getOrdersRun) storeFailure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.storeErr
}

func (r *getOrdersRun) enough() bool { return r.syncedCount() >= r.minPeers }

func (r *getOrdersRun) syncedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.synced)
}

func (r *getOrdersRun) isSynced(p peer.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced[p]
}

// stopped is GetOrders's error when ctx ended.
func (r *getOrdersRun) stopped(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.gotOrders && len(r.synced) == 0:
		return callErrorf("GetOrders", "%w: %w", ErrNoOrders, ended(ctx))
	case !r.gotOrders:
		// Peers that showed this node held their orders already synced,
		// and delivered none.
		return callErrorf("GetOrders", "synced with %d of %d peers, no new valid orders (%w): %w", len(r.synced), r.minPeers, ErrNoOrders, ended(ctx))
	}
	return callErrorf("GetOrders", "synced with %d of %d peers: %w", len(r.synced), r.minPeers, ended(ctx))
}

// ended is why ctx, bound to the Service's lifecycle, ended: ctx.Err(),
// and ErrClosed too when Close ended it.
func ended(ctx context.Context) error {
	if context.Cause(ctx) == ErrClosed {
		return fmt.Errorf("%w: %w", ErrClosed, ctx.Err())
	}
	return ctx.Err()
}

// runRound tries the connected peers that have not synced yet, in random
// order, until enough have synced. It runs at most as many syncs at once as
// are still missing, so at most minPeers, and no more than would be needed
// if all of them succeeded. It returns when every sync it started has ended.
func (r *getOrdersRun) runRound(ctx context.Context, round int) {
	s := r.s
	peers := s.neighbors(ctx)
	rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	self := s.node.ID()

	ended := make(chan struct{}, len(peers)) // never blocks a sync
	inFlight := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, p := range peers {
		if p == self || r.isSynced(p) {
			continue
		}
		for inFlight > 0 && inFlight+r.syncedCount() >= r.minPeers {
			select {
			case <-ended:
				inFlight--
			case <-ctx.Done():
				return
			}
		}
		if r.syncedCount() >= r.minPeers || ctx.Err() != nil {
			return
		}
		inFlight++
		wg.Add(1)
		go func() {
			defer wg.Done()
			valid, err := s.sync(ctx, p)
			r.mu.Lock()
			if valid > 0 {
				r.gotOrders = true
			}
			if err == nil {
				r.synced[p] = true
			}
			if errors.Is(err, ErrStore) {
				r.storeErr = err
			}
			r.mu.Unlock()
			ended <- struct{}{}
		}()
	}
	s.log.WithFields(logrus.Fields{"round": round, "peers": len(peers)}).Trace("ordersync: round started its syncs")
}
