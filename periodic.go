package ordersync

import (
	"context"
	"time"
)

// PeriodicallyGetOrders runs GetOrders, waits approxDelay give or take the
// jitter (WithJitter, 10 % by default, uniformly), and repeats. It returns
// when ctx ends, with an error for which errors.Is(err, ctx.Err()) holds (and
// errors.Is(err, ErrNoOrders) if the GetOrders under way had got no orders),
// or when GetOrders fails otherwise, with that error wrapped (ErrClosed
// among them after Close). An approxDelay
// that is not positive is an error at once.
func (s *Service) PeriodicallyGetOrders(ctx context.Context, minPeers int, approxDelay time.Duration) error {
	return s.repeat(ctx, "PeriodicallyGetOrders", approxDelay, func(ctx context.Context) error {
		return s.GetOrders(ctx, minPeers)
	})
}

// repeat is the loop of the Periodically calls (op names the call): run,
// a jittered wait of approxDelay, and again, until run fails or ctx ends.
func (s *Service) repeat(ctx context.Context, op string, approxDelay time.Duration, run func(context.Context) error) error {
	if approxDelay <= 0 {
		return callErrorf(op, "approxDelay %v: must be positive", approxDelay)
	}
	if !s.life.enter() {
		return callErrorf(op, "%w", ErrClosed)
	}
	defer s.life.leave()
	ctx, cancel := s.life.bind(ctx)
	defer cancel()
	for {
		if err := run(ctx); err != nil {
			return callErrorf(op, "%w", err)
		}
		select {
		case <-s.cfg.after(s.jittered(approxDelay)):
		case <-ctx.Done():
			return callErrorf(op, "%w", ended(ctx))
		}
	}
}

// jittered spreads d uniformly over d × (1 ± jitter).
func (s *Service) jittered(d time.Duration) time.Duration {
	f := 1 + s.cfg.jitter*(2*s.cfg.random()-1)
	return time.Duration(float64(d) * f)
}
