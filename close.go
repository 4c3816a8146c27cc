package ordersync

import (
	"context"
	"errors"
	"sync"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// ErrClosed is part of the error of GetOrders and PeriodicallyGetOrders
// called on, or cut off by, a closed Service.
var ErrClosed = errors.New("ordersync: service closed")

// StreamHandlerRemover is what a Node needs to let Close remove the
// Service's stream handler; HostNode has it. With a Node that lacks it,
// Close leaves the handler registered, and the closed Service resets every
// stream it is given.
type StreamHandlerRemover interface {
	// RemoveStreamHandler removes the handler for a protocol.
	RemoveStreamHandler(protocol.ID)
}

// lifecycle is what Close needs: the Service's own context, cancelled on
// Close, and the calls running on the Service, waited for.
type lifecycle struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
	once    sync.Once
}

func (l *lifecycle) init(parent context.Context) {
	l.ctx, l.cancel = context.WithCancel(parent)
}

// enter counts a call that runs on the Service; it returns false, counting
// nothing, once the Service is closed. The caller calls leave when done.
func (l *lifecycle) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.running.Add(1)
	return true
}

func (l *lifecycle) leave() { l.running.Done() }

// bind returns ctx, cut off also when the Service closes.
func (l *lifecycle) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(l.ctx, func() { cancel(ErrClosed) })
	return ctx, func() {
		stop()
		cancel(nil)
	}
}

// Close stops the Service: it removes its stream handler (if the Node is
// a StreamHandlerRemover), cuts off the streams being served and the
// GetOrders and PeriodicallyGetOrders calls under way, and waits until all
// of them have returned, leaving nothing running. It is safe to call more
// than once and from several goroutines; every call returns once the
// Service has stopped. It always returns nil.
//
// After Close, the Service resets any stream it is given, and GetOrders
// and PeriodicallyGetOrders fail with an error wrapping ErrClosed.
func (s *Service) Close() error {
	s.life.once.Do(func() {
		if r, ok := s.node.(StreamHandlerRemover); ok {
			r.RemoveStreamHandler(ID)
		}
		s.life.mu.Lock()
		s.life.closed = true
		s.life.mu.Unlock()
		s.life.cancel()
	})
	s.life.running.Wait()
	return nil
}
