package ordersync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"
)

// ErrSelf is SyncPeer's error when asked to sync with the node itself.
var ErrSelf = errors.New("ordersync: a node cannot sync with itself")

// SyncPeer syncs with provider p now, as a node does when p connects. If a
// sync with p is already running (from GetOrders, PeriodicallyGetOrders,
// SyncNeighbors or another SyncPeer) it starts none: it waits for that one
// and returns its outcome, so that two syncs with one provider never run
// side by side. A sync that broke off in an earlier round resumes.
//
// It returns nil when the sync completed with at least one valid order,
// or showed that this node already holds p's orders (see InSyncReporter);
// otherwise the sync's error (ErrNoOrdersFromPeer, ErrInvalidMessage,
// ErrMessageTooLarge, ErrTooManyPages, ErrTooManyOrders, a stream error),
// ctx's error if ctx ended first, ErrClosed (wrapped) after Close, and
// ErrSelf for the node's own ID. The sync is counted in Stats and scored
// as any other.
func (s *Service) SyncPeer(ctx context.Context, p peer.ID) error {
	if p == s.node.ID() {
		return ErrSelf
	}
	if !s.life.enter() {
		return callErrorf("SyncPeer", "%w", ErrClosed)
	}
	defer s.life.leave()
	ctx, cancel := s.life.bind(ctx)
	defer cancel()
	_, err := s.sync(ctx, p)
	if err != nil && ctx.Err() != nil {
		return callErrorf("SyncPeer", "sync with %s cut off: %w", p, ended(ctx))
	}
	return err
}

// RoundResult is what one round of SyncNeighbors did.
type RoundResult struct {
	// Peers is how many neighbours the round tried.
	Peers int
	// Synced is how many of them completed a sync (as SyncPeer's nil).
	Synced int
	// ValidOrders sums the valid orders the syncs delivered, new or not.
	ValidOrders int
}

// maxRoundSyncs bounds the syncs a round of SyncNeighbors runs at once:
// a node with many neighbours syncs with them a few at a time rather
// than opening a stream to each at once.
const maxRoundSyncs = 4

// SyncNeighbors runs one round: it syncs once with every neighbour that
// speaks ordersync (see ProtocolNeighbors), a few at a time, joining a
// sync already running with one of them, and returns when all have ended.
// Unlike GetOrders it waits for no minimum: a round with one neighbour
// syncs with that one, and a round with none returns at once. Failed syncs
// are logged, scored and counted in Stats, and the next round tries those
// peers again.
//
// The error is nil unless the round was cut short: by ctx (an error for
// which errors.Is(err, ctx.Err()) holds) or by Close (ErrClosed).
func (s *Service) SyncNeighbors(ctx context.Context) (RoundResult, error) {
	if !s.life.enter() {
		return RoundResult{}, callErrorf("SyncNeighbors", "%w", ErrClosed)
	}
	defer s.life.leave()
	ctx, cancel := s.life.bind(ctx)
	defer cancel()

	before := s.Stats()
	self := s.node.ID()
	var res RoundResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxRoundSyncs)
	peers := s.neighbors(ctx)
	rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	for _, p := range peers {
		if p == self {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		res.Peers++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			valid, err := s.sync(ctx, p)
			mu.Lock()
			defer mu.Unlock()
			res.ValidOrders += valid
			if err == nil {
				res.Synced++
			}
		}()
	}
	wg.Wait()
	s.logRound("ordersync: round ended", res.Synced, res.Peers, before)
	if ctx.Err() != nil {
		return res, callErrorf("SyncNeighbors", "synced with %d of %d peers: %w", res.Synced, res.Peers, ended(ctx))
	}
	return res, nil
}

// PeriodicallySyncNeighbors keeps a node current with whoever is there:
// it runs SyncNeighbors, waits approxDelay give or take the jitter
// (WithJitter), and repeats, until ctx ends or Close is called. After a
// round in which the node stored at least PromptRoundOrders new orders it
// waits a sixteenth of approxDelay instead (see RoundDelay), so that a bulk
// of orders crosses the network at the pace of the syncs rather than one
// period per hop. A round
// with fewer peers than one would like, or with none, is not waited on:
// the next round comes after approxDelay all the same, and syncs with the
// peers there are then. (PeriodicallyGetOrders, whose every run waits for
// minPeers peers as the original did, stalls when fewer are there.) A node
// that wants a new peer synced before the next round calls SyncPeer when
// it connects.
//
// It returns an error for which errors.Is(err, ctx.Err()) holds when ctx
// ends, one wrapping ErrClosed after Close, and an error at once for an
// approxDelay that is not positive.
func (s *Service) PeriodicallySyncNeighbors(ctx context.Context, approxDelay time.Duration) error {
	return s.repeat(ctx, "PeriodicallySyncNeighbors", approxDelay, true, func(ctx context.Context) error {
		_, err := s.SyncNeighbors(ctx)
		return err
	})
}

// logRound logs, at Info, one line for a round that synced with synced of
// tried peers (of minPeers, for GetOrders): an operator's view of the
// requester, and the only line a healthy node logs at Info. The orders and bytes
// are the Service's counters since before, so they include what calls
// running beside the round did.
func (s *Service) logRound(msg string, synced, tried int, before Stats) {
	after := s.Stats()
	s.log.WithFields(logrus.Fields{
		"synced":       fmt.Sprintf("%d of %d", synced, tried),
		"newOrders":    after.OrdersNew - before.OrdersNew,
		"bytesRead":    after.BytesRead - before.BytesRead,
		"bytesWritten": after.BytesWritten - before.BytesWritten,
	}).Info(msg)
}
