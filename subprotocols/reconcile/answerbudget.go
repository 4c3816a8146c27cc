package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/internal/riblt"
)

// symbolWireBytes is what one coded symbol costs on the wire: 41 bytes
// in base64.
const symbolWireBytes = (riblt.SymbolSize*4 + 2) / 3

// answerEnvelopeBytes is what a sketch answer costs besides its symbols,
// at most: the response's envelope, the metadata's other fields and the
// digest (128 bytes, 172 in base64). It is charged to every answer.
const answerEnvelopeBytes = 360

// minAnswerSymbols is the fewest symbols an answer is cut to when the
// requester's budget is short: below it, the provider waits for the budget
// instead, so that a throttled sync still moves.
const minAnswerSymbols = 16

// answerBudgets caps the bytes of sketch answers (symbols and envelope) a
// provider sends each requester per second. A sketch request of a hundred bytes can ask for
// 16 384 symbols (900 kB): without a cap, a peer within the Service's
// request rate limits drew 25.6 MiB/s of them. Limiters that have refilled
// are forgotten when there are many, as a fresh one is the same.
type answerBudgets struct {
	limit rate.Limit
	burst int

	mu     sync.Mutex
	byPeer map[peer.ID]*rate.Limiter
}

// maxIdleBudgets is how many requesters' budgets are kept before the full
// ones are forgotten.
const maxIdleBudgets = 4096

func newAnswerBudgets(bytesPerSecond, burst int) *answerBudgets {
	limit := rate.Limit(bytesPerSecond)
	if bytesPerSecond < 0 {
		limit = rate.Inf
	}
	return &answerBudgets{limit: limit, burst: burst, byPeer: make(map[peer.ID]*rate.Limiter)}
}

func (b *answerBudgets) get(p peer.ID) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l, ok := b.byPeer[p]; ok {
		return l
	}
	if len(b.byPeer) >= maxIdleBudgets {
		now := time.Now()
		for q, l := range b.byPeer {
			if l.TokensAt(now) >= float64(b.burst) {
				delete(b.byPeer, q)
			}
		}
	}
	l := rate.NewLimiter(b.limit, b.burst)
	b.byPeer[p] = l
	return l
}

// take cuts an answer of want symbols to p down to what p's budget holds
// now, but not below minAnswerSymbols (or want, if smaller), for which it
// waits while ctx lasts. It returns how many symbols to send.
func (b *answerBudgets) take(ctx context.Context, p peer.ID, want int) (int, error) {
	return b.takeUnits(ctx, p, want, symbolWireBytes)
}

// hashWireBytes is what one listed hash costs on the wire: 43 bytes in
// base64.
const hashWireBytes = (32*4 + 2) / 3

// takeUnits is take for an answer of want units (symbols, or hashes of a
// list) of unitBytes each: one budget covers both kinds of answer.
func (b *answerBudgets) takeUnits(ctx context.Context, p peer.ID, want, unitBytes int) (int, error) {
	if want <= 0 || b.limit == rate.Inf {
		return want, nil
	}
	l := b.get(p)
	affordable := (int(l.Tokens()) - answerEnvelopeBytes) / unitBytes
	n := min(want, max(affordable, minAnswerSymbols), (b.burst-answerEnvelopeBytes)/unitBytes)
	if err := l.WaitN(ctx, answerEnvelopeBytes+n*unitBytes); err != nil {
		return 0, fmt.Errorf("reconcile: %s's answer budget of %v bytes/s: %w", p, b.limit, err)
	}
	return n, nil
}

// heldScanBytes is what a hash a provider tested against a held filter
// and did not list costs the requester's budget: a test is up to
// MaxHeldFilterPositions bit lookups, listed or not (the largest set
// against an all-ones filter: about 20 ms of CPU, for an empty answer), so
// a filter that hides everything still paces its sender, to about two
// such scans a second at the default rate.
const heldScanBytes = 4

// charge takes n bytes of work that sends nothing from p's budget, at most
// a burst's worth less an answer's envelope, waiting while ctx lasts.
func (b *answerBudgets) charge(ctx context.Context, p peer.ID, n int) error {
	n = min(n, b.burst-answerEnvelopeBytes)
	if n <= 0 || b.limit == rate.Inf {
		return nil
	}
	if err := b.get(p).WaitN(ctx, n); err != nil {
		return fmt.Errorf("reconcile: %s's answer budget of %v bytes/s: %w", p, b.limit, err)
	}
	return nil
}
