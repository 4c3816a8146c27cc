package ordersync

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"
)

// ErrPanicked is the error of a sync whose stream ended because handling
// it panicked, in the Service or in a subprotocol. It wraps nothing that
// tells which; the panic and its stack are in the log.
var ErrPanicked = errors.New("ordersync: panic while handling a peer's stream")

// A panic while handling one peer's stream is a bug, ours or a
// subprotocol's, that the peer's input reached. Neither go-libp2p nor the
// Go runtime recovers a panic on a stream handler's goroutine, so one
// request could stop a node serving everyone (a reconcile request once
// did). These deferred calls end that stream only: they reset it, log the
// panic with its stack, and score the peer as for an invalid message.
// Everything else the stream held is given back by the deferred calls that
// ran before them while the panic unwound.

// recoverServing is deferred first in HandleStream: a panic while serving
// stream ends it.
func (s *Service) recoverServing(stream network.Stream, log logrus.FieldLogger) {
	r := recover()
	if r == nil {
		return
	}
	s.panicked(stream.Conn().RemotePeer(), RoleProvider, r, log)
	_ = stream.Reset()
}

// recoverSyncing is deferred first in runStream: a panic while syncing on
// a stream ends the sync with ErrPanicked, not to be resumed.
func (ps *peerSync) recoverSyncing(out *outcome, err *error) {
	r := recover()
	if r == nil {
		return
	}
	*out, *err = abort, fmt.Errorf("%w: %v", ErrPanicked, r)
	ps.s.panicked(ps.p, RoleRequester, r, ps.log)
}

// fetchRecovered is fetch and precheck for fetchAhead's goroutine, which
// nothing else would recover: a panic there is a fetch that failed with
// ErrPanicked.
func (ps *peerSync) fetchRecovered(ctx context.Context, x *exchange) (f fetched) {
	defer func() {
		if r := recover(); r != nil {
			f = fetched{err: fmt.Errorf("%w: %v", ErrPanicked, r)}
			ps.s.panicked(ps.p, RoleRequester, r, ps.log)
		}
	}()
	return ps.precheck(ctx, ps.fetch(x))
}

// panicked logs a recovered panic with its stack and scores p.
func (s *Service) panicked(p peer.ID, role Role, r any, log logrus.FieldLogger) {
	s.score.invalidMessage(p)
	log.WithFields(logrus.Fields{"role": role, "panic": r, "stack": string(debug.Stack())}).
		Error("ordersync: recovered from a panic while handling a stream; the stream is reset")
}
