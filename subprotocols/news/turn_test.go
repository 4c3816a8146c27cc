package news

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// Exactly one end of a link is first.
func TestFirstTurnIsOneEnd(t *testing.T) {
	a, b := peer.ID("a"), peer.ID("b")
	if firstTurn(a, b) == firstTurn(b, a) {
		t.Error("both ends or neither is first")
	}
}

// Two nodes on a lazy link that both hold the same orders announce each
// of them once between them, not once each way, and the first end does,
// even when the second took them in first: it hears of them from the
// first before its own turn comes. (Before the turns, the end whose
// announcement left first announced them, the other left them out if it
// came in time, and both did if they crossed.) Orders only the second end
// holds still cross, in its second turn, and are fetched.
func TestLazyLinkAnnouncesOnce(t *testing.T) {
	hosts := testnet.New(t, 2)
	if firstTurn(hosts[1].ID(), hosts[0].ID()) {
		hosts[0], hosts[1] = hosts[1], hosts[0]
	}
	first := startNews(t, hosts[0], nil, nil)
	second := startNews(t, hosts[1], nil, nil)
	waitSpeaksNews(t, hosts[0], hosts[1].ID())
	waitSpeaksNews(t, hosts[1], hosts[0].ID())
	for _, end := range []struct{ n, other *newsNode }{{first, second}, {second, first}} {
		// Each end announces its own orders to the other, never pushes them.
		end.n.News.mu.Lock()
		end.n.News.lazy.set(end.n.News.self, end.other.Host.ID(), true)
		end.n.News.mu.Unlock()
	}
	orders := nodetest.Orders(130)
	shared, onlySecond := orders[:100], orders[100:]
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("first: %+v", first.News.Stats())
			t.Logf("second: %+v", second.News.Stats())
		}
	})
	// The second end takes the shared orders in first: its lazy batch
	// would leave before the first end's.
	subSecond := second.Store.Subscribe(0)
	defer subSecond.Close()
	if _, err := second.Store.AddOrders(context.Background(), shared); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, second.Store, subSecond, hashesOf(t, shared)...)
	if _, err := first.Store.AddOrders(context.Background(), shared); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitUntil(t, "the first end's turn", func() bool { return second.News.Stats().Received >= int64(len(shared)) })
	// Orders only the second end holds cross in its second turn, after
	// the shared orders' (its queue keeps the order of the first turns).
	subFirst := first.Store.Subscribe(0)
	defer subFirst.Close()
	if _, err := second.Store.AddOrders(context.Background(), onlySecond); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, first.Store, subFirst, hashesOf(t, onlySecond)...)
	stFirst, stSecond := first.News.Stats(), second.News.Stats()
	if stFirst.Announced != int64(len(shared)) || stSecond.Announced != int64(len(onlySecond)) {
		t.Errorf("the first end announced %d, the second %d; want %d (the shared orders, once) and %d (those it alone held)", stFirst.Announced, stSecond.Announced, len(shared), len(onlySecond))
	}
	if stFirst.Fetched != int64(len(onlySecond)) || stSecond.Fetched != 0 {
		t.Errorf("the first end fetched %d, the second %d; want %d and none", stFirst.Fetched, stSecond.Fetched, len(onlySecond))
	}
}

// The second-turn queue gives hashes back once their wait is over, in
// the order they came, and drops the oldest past its bound.
func TestTurnQueue(t *testing.T) {
	q := newTurnQueue(time.Second)
	defer q.stop()
	start := time.Now()
	q.add(start, []common.Hash{{1}})
	q.add(start.Add(time.Millisecond), []common.Hash{{2}, {3}})
	if got := q.takeDue(start.Add(time.Second - time.Nanosecond)); len(got) != 0 {
		t.Errorf("before the wait: %d hashes given back", len(got))
	}
	if got := q.takeDue(start.Add(time.Second)); len(got) != 1 || got[0] != (common.Hash{1}) {
		t.Errorf("at the first's due time: %x, want the first hash", got)
	}
	if got := q.takeDue(start.Add(2 * time.Second)); len(got) != 2 {
		t.Errorf("after both waits: %d hashes given back, want 2", len(got))
	}
	many := make([]common.Hash, maxSecondTurn)
	q.add(start, []common.Hash{{9}})
	if dropped := q.add(start, many); dropped != 1 {
		t.Errorf("past the bound: %d dropped, want 1", dropped)
	}
	if got := q.takeDue(start.Add(time.Hour)); len(got) != maxSecondTurn || slices.Contains(got, common.Hash{9}) {
		t.Errorf("%d hashes kept, want %d, less the oldest", len(got), maxSecondTurn)
	}
}
