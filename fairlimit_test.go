package ordersync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync/testing/testnet"
)

// fakeClock drives a fairLimiter's time: wake-ups run when the test moves
// the clock past them.
type fakeClock struct {
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func (c *fakeClock) afterFunc(d time.Duration, f func()) {
	c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), f: f})
}

// advance moves the clock by d and runs the wake-ups due by then.
func (c *fakeClock) advance(d time.Duration) {
	c.now = c.now.Add(d)
	for {
		due := -1
		for i, t := range c.timers {
			if !t.at.After(c.now) {
				due = i
				break
			}
		}
		if due < 0 {
			return
		}
		f := c.timers[due].f
		c.timers = append(c.timers[:due], c.timers[due+1:]...)
		f()
	}
}

func newTestFairLimiter(limit rate.Limit, burst int) (*fairLimiter, *fakeClock) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	f := newFairLimiter(limit, burst)
	f.now = func() time.Time { return clock.now }
	f.afterFunc = clock.afterFunc
	f.lim = rate.NewLimiter(limit, burst)
	// The limiter starts full at the fake time.
	f.lim.SetBurstAt(clock.now, burst)
	return f, clock
}

// simRequester is one peer of a simulation: it keeps outstanding requests
// waiting, and issues the next one think after one is granted.
type simRequester struct {
	id          peer.ID
	outstanding int
	think       time.Duration
}

// grant is one token handed out in a simulation, with the requesters that
// were waiting (for at least a step) when it was.
type grant struct {
	to      int
	waiting []bool
}

// simulate runs requesters against f for d in steps of 1 ms and returns
// the tokens each got and every grant in order. key maps a requester to
// the peer the limiter sees: the identity for our policy, one constant
// for the original's single first-come-first-served bucket.
func simulate(f *fairLimiter, clock *fakeClock, reqs []simRequester, d time.Duration, key func(peer.ID) peer.ID) ([]int, []grant) {
	const step = time.Millisecond
	type pending struct {
		w     *tokenWait
		since time.Time
	}
	got := make([]int, len(reqs))
	var grants []grant
	waits := make([][]pending, len(reqs))
	issueAt := make([][]time.Time, len(reqs))
	for i, r := range reqs {
		for range r.outstanding {
			issueAt[i] = append(issueAt[i], clock.now)
		}
	}
	end := clock.now.Add(d)
	for clock.now.Before(end) {
		// Who has waited since before this step, for the fairness record.
		waiting := make([]bool, len(reqs))
		for i := range reqs {
			for _, p := range waits[i] {
				if p.since.Before(clock.now) {
					waiting[i] = true
				}
			}
		}
		for i, r := range reqs {
			var still []time.Time
			for _, at := range issueAt[i] {
				if at.After(clock.now) {
					still = append(still, at)
					continue
				}
				waits[i] = append(waits[i], pending{w: f.enqueue(key(r.id)), since: clock.now})
			}
			issueAt[i] = still
		}
		for i, r := range reqs {
			var left []pending
			for _, p := range waits[i] {
				select {
				case <-p.w.ready:
					got[i]++
					grants = append(grants, grant{to: i, waiting: waiting})
					issueAt[i] = append(issueAt[i], clock.now.Add(r.think))
				default:
					left = append(left, p)
				}
			}
			waits[i] = left
		}
		clock.advance(step)
	}
	return got, grants
}

func ownKey(p peer.ID) peer.ID  { return p }
func oneBucket(peer.ID) peer.ID { return "everyone" }

// eightWithFlooder are eight requesters: one keeps four requests waiting
// at all times (a stream on each of its WithMaxStreamsPerPeer slots), the
// other seven ask again as soon as they are answered.
func eightWithFlooder() []simRequester {
	reqs := []simRequester{{id: "flooder", outstanding: DefaultMaxStreamsPerPeer}}
	for i := range 7 {
		reqs = append(reqs, simRequester{id: peer.ID(fmt.Sprintf("honest-%d", i)), outstanding: 1})
	}
	return reqs
}

// A peer alone gets the whole shared rate: the burst, then 30 a second.
func TestFairLimiterLonePeerGetsTheWholeRate(t *testing.T) {
	f, clock := newTestFairLimiter(DefaultRateLimit, DefaultRateBurst)
	got, _ := simulate(f, clock, []simRequester{{id: "alone", outstanding: 1}}, 10*time.Second, ownKey)
	if want := DefaultRateBurst + 10*int(DefaultRateLimit); got[0] < want-1 || got[0] > want {
		t.Errorf("lone peer got %d tokens in 10 s, want %d", got[0], want)
	}
}

// Eight peers at once, one of them flooding: each gets its share, and
// whenever a peer is served while another waits, the other is served
// before it again.
func TestFairLimiterSharesAmongWaitingPeers(t *testing.T) {
	f, clock := newTestFairLimiter(DefaultRateLimit, DefaultRateBurst)
	reqs := eightWithFlooder()
	got, grants := simulate(f, clock, reqs, 10*time.Second, ownKey)
	total := 0
	for _, n := range got {
		total += n
	}
	// The burst at the start goes first come, first served: the
	// flooder's four requests came first.
	share := total / len(reqs)
	for i, n := range got {
		if n < share-1 || n > share+DefaultMaxStreamsPerPeer {
			t.Errorf("%s got %d of %d tokens, want its share, %d", string(reqs[i].id), n, total, share)
		}
	}
	// Turns: after a grant to p, every peer waiting then is served before
	// p is served again.
	owed := make([]map[int]bool, len(reqs)) // owed[p]: peers p must wait for
	for i := range owed {
		owed[i] = map[int]bool{}
	}
	for k, g := range grants {
		if len(owed[g.to]) > 0 {
			t.Fatalf("grant %d to %s while requesters %v, waiting since its last, had none", k, string(reqs[g.to].id), owed[g.to])
		}
		for q := range owed {
			delete(owed[q], g.to)
		}
		for q, w := range g.waiting {
			if w && q != g.to {
				owed[g.to][q] = true
			}
		}
	}
}

// The original policy, one first-come-first-served bucket, gives the
// flooder a token for each of its waiting requests.
func TestOneBucketFavoursTheFlooder(t *testing.T) {
	f, clock := newTestFairLimiter(DefaultRateLimit, DefaultRateBurst)
	reqs := eightWithFlooder()
	got, _ := simulate(f, clock, reqs, 10*time.Second, oneBucket)
	if got[0] < 3*got[1] {
		t.Errorf("one bucket: flooder got %d, an honest peer %d; want the flooder well ahead", got[0], got[1])
	}
}

func TestFairLimiterAdmit(t *testing.T) {
	f, clock := newTestFairLimiter(1, 1)
	if paid, ok := f.admit("a"); !paid || !ok {
		t.Fatalf("first stream: paid %v, ok %v; want a token at once", paid, ok)
	}
	w := f.enqueue("a") // the limiter is empty: a waits
	select {
	case <-w.ready:
		t.Fatal("granted with an empty limiter")
	default:
	}
	if _, ok := f.admit("a"); ok {
		t.Error("a new stream of a peer already waiting was let in")
	}
	if paid, ok := f.admit("b"); paid || !ok {
		t.Errorf("a new stream of a peer not waiting: paid %v, ok %v; want it let in to wait its turn", paid, ok)
	}
	clock.advance(time.Second)
	select {
	case <-w.ready:
	default:
		t.Fatal("not granted once the limiter refilled")
	}
}

// A wait that ends with its context leaves nothing behind, and does not
// take a turn from the others.
func TestFairLimiterWaitCancelled(t *testing.T) {
	f, clock := newTestFairLimiter(1, 1)
	f.enqueue("x") // takes the only token
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.wait(ctx, "a"); err != context.Canceled {
		t.Fatalf("wait: %v, want context.Canceled", err)
	}
	if len(f.queues) != 0 || len(f.turns) != 0 {
		t.Fatalf("left behind: queues %v, turns %v", f.queues, f.turns)
	}
	w := f.enqueue("b")
	clock.advance(time.Second)
	select {
	case <-w.ready:
	default:
		t.Fatal("the next waiter did not get the refilled token")
	}
}

// BenchmarkRateLimitPolicies shows, on a simulated clock, what the default
// shared limit (30/s, burst 10) gives one requester alone, and eight at
// once with one flooding, under our policy (fair turns) next to the
// original one (one first-come-first-served bucket). It reports requests
// per second over a simulated minute; run with -benchtime 1x.
func BenchmarkRateLimitPolicies(b *testing.B) {
	const d = time.Minute
	perSecond := func(n int) float64 { return float64(n) / d.Seconds() }
	for _, policy := range []struct {
		name string
		key  func(peer.ID) peer.ID
	}{{"fair", ownKey}, {"original", oneBucket}} {
		b.Run(policy.name, func(b *testing.B) {
			for range b.N {
				f, clock := newTestFairLimiter(DefaultRateLimit, DefaultRateBurst)
				lone, _ := simulate(f, clock, []simRequester{{id: "alone", outstanding: 1}}, d, policy.key)
				f, clock = newTestFairLimiter(DefaultRateLimit, DefaultRateBurst)
				eight, _ := simulate(f, clock, eightWithFlooder(), d, policy.key)
				honestMin := eight[1]
				for _, n := range eight[1:] {
					honestMin = min(honestMin, n)
				}
				b.ReportMetric(perSecond(lone[0]), "lone-req/s")
				b.ReportMetric(perSecond(eight[0]), "flooder-req/s")
				b.ReportMetric(perSecond(honestMin), "honest-min-req/s")
			}
		})
	}
}

// BenchmarkLoneRequesterDefaultLimit syncs 40 pages and the complete one
// from one provider over real loopback hosts, under the default shared
// limit, against the former default per-peer limit of 20/s on top of it:
// the rate limit is the whole cost (the requester trusts the orders). The
// shared 30/s bucket alone is also the original provider's policy for a
// lone requester. Each iteration uses a fresh provider, so its limiter
// starts full, as for a first sync.
func BenchmarkLoneRequesterDefaultLimit(b *testing.B) {
	all := orders(98, 400)
	for _, policy := range []struct {
		name string
		opts []Option
	}{
		{"fair-shared-30", nil},
		{"former-per-peer-20", []Option{WithPeerRateLimit(20, 10)}},
	} {
		b.Run(policy.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				hosts := testnet.New(b, 2)
				newService(b, hosts[1], []Subprotocol{newPager("/test/a", all, 10)}, append([]Option{WithLogger(quietLogger(b))}, policy.opts...)...)
				req := newPager("/test/a", nil, 10)
				req.trust, req.discard = true, true
				requester := newService(b, hosts[0], []Subprotocol{req}, WithLogger(quietLogger(b)))
				b.StartTimer()
				if err := requester.GetOrders(b.Context(), 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
