package ordersync

import (
	"context"
	"time"
)

// PeriodicallyGetOrders runs GetOrders, waits approxDelay give or take the
// jitter (WithJitter, 10 % by default, uniformly), and repeats, as the
// original network's nodes did (PeriodicallySyncNeighbors comes sooner
// after a round that brought a bulk: see RoundDelay). It returns when ctx
// ends, with an error for which errors.Is(err, ctx.Err()) holds (and
// errors.Is(err, ErrNoOrders) if the GetOrders under way had got no
// orders), or when GetOrders fails otherwise, with that error wrapped
// (ErrClosed among them after Close). An approxDelay that is not positive
// is an error at once.
func (s *Service) PeriodicallyGetOrders(ctx context.Context, minPeers int, approxDelay time.Duration) error {
	return s.repeat(ctx, "PeriodicallyGetOrders", approxDelay, false, func(ctx context.Context) error {
		return s.GetOrders(ctx, minPeers)
	})
}

// PromptRoundOrders is how many new orders a round must bring for the
// next round to follow promptly (see RoundDelay). A round that brings
// this many is part of a bulk of orders crossing the network, hop by hop:
// each hop's next round finds the orders the last one brought to its
// neighbours. Waiting a full period per hop made a first sync across a
// network a staircase of one period per hop. New orders that news
// carries come a few at a time and leave the period as it is.
const PromptRoundOrders = 100

// promptDivisor divides the period after a round that brought a bulk.
const promptDivisor = 16

// RoundDelay is the wait, jittered (WithJitter), before the round after
// one that brought newOrders new orders to this node (Stats.OrdersNew
// over the round, whoever delivered them), in a loop whose period is
// approxDelay: approxDelay/16 when newOrders is at least
// PromptRoundOrders, approxDelay otherwise. PeriodicallySyncNeighbors waits
// this long; a program that runs its own rounds (SyncNeighbors, or
// GetOrders) can too.
func (s *Service) RoundDelay(newOrders int64, approxDelay time.Duration) time.Duration {
	if newOrders >= PromptRoundOrders {
		approxDelay /= promptDivisor
	}
	return s.jittered(approxDelay)
}

// repeat is the loop of the Periodically calls (op names the call): run,
// a jittered approxDelay (with prompt, the wait RoundDelay gives), and
// again, until run fails or ctx ends.
func (s *Service) repeat(ctx context.Context, op string, approxDelay time.Duration, prompt bool, run func(context.Context) error) error {
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
		before := s.stats.ordersNew.Load()
		if err := run(ctx); err != nil {
			return callErrorf(op, "%w", err)
		}
		wait := s.jittered(approxDelay)
		if prompt {
			wait = s.RoundDelay(s.stats.ordersNew.Load()-before, approxDelay)
		}
		select {
		case <-s.cfg.after(wait):
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
