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
	"github.com/ordersync/ordersync/zeroex"
)

// Exactly one end of a link is first for each order, and each end is
// first for some.
func TestFirstTurnIsOneEnd(t *testing.T) {
	a, b := peer.ID("a"), peer.ID("b")
	firsts := map[bool]int{}
	for _, h := range hashesOf(t, nodetest.Orders(64)) {
		if firstTurn(a, b, h) == firstTurn(b, a, h) {
			t.Fatalf("%x: both ends or neither is first", h)
		}
		firsts[firstTurn(a, b, h)]++
	}
	if firsts[true] == 0 || firsts[false] == 0 {
		t.Errorf("one end is first for every order: %v", firsts)
	}
}

// Two nodes on a lazy link that both hold the same orders announce each
// of them once between them, not once each way: the second end of the
// link for an order hears of it from the first before its own turn comes.
// Orders only one end holds still cross: those it is second for are
// announced in its second turn, and fetched. (Before the turns, each end
// announced every order to the other.)
func TestLazyLinkAnnouncesOnce(t *testing.T) {
	hosts := testnet.New(t, 2)
	a := startNews(t, hosts[0], nil, nil)
	b := startNews(t, hosts[1], nil, nil)
	waitSpeaksNews(t, hosts[0], hosts[1].ID())
	waitSpeaksNews(t, hosts[1], hosts[0].ID())
	for _, end := range []struct{ n, other *newsNode }{{a, b}, {b, a}} {
		// Each end announces its own orders to the other, never pushes them.
		end.n.News.mu.Lock()
		end.n.News.lazy.set(end.n.News.self, end.other.Host.ID(), true)
		end.n.News.mu.Unlock()
	}
	orders := nodetest.Orders(160)
	shared := orders[:100]
	// Orders one end holds alone, and is second for: they cross in its
	// second turn, after the shared orders' second turns (its queue keeps
	// the order of the first turns).
	var onlyA, onlyB []*zeroex.SignedOrder
	for _, o := range orders[100:] {
		h, _ := o.ComputeOrderHash()
		if firstTurn(hosts[0].ID(), hosts[1].ID(), h) {
			onlyB = append(onlyB, o)
		} else {
			onlyA = append(onlyA, o)
		}
	}
	aFirst := 0
	for _, h := range hashesOf(t, shared) {
		if firstTurn(hosts[0].ID(), hosts[1].ID(), h) {
			aFirst++
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("a: %+v", a.News.Stats())
			t.Logf("b: %+v", b.News.Stats())
		}
	})
	for _, n := range []*newsNode{a, b} {
		if _, err := n.Store.AddOrders(context.Background(), shared); err != nil {
			t.Fatal(err)
		}
	}
	// Once each end heard the shared orders it is second for, the first
	// turns are over on both.
	nodetest.WaitUntil(t, "the first turns", func() bool {
		return a.News.Stats().Received == int64(len(shared)-aFirst) && b.News.Stats().Received == int64(aFirst)
	})
	subA, subB := a.Store.Subscribe(0), b.Store.Subscribe(0)
	defer subA.Close()
	defer subB.Close()
	if _, err := a.Store.AddOrders(context.Background(), onlyA); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.AddOrders(context.Background(), onlyB); err != nil {
		t.Fatal(err)
	}
	waitHolds(t, b.Store, subB, hashesOf(t, onlyA)...)
	waitHolds(t, a.Store, subA, hashesOf(t, onlyB)...)
	stA, stB := a.News.Stats(), b.News.Stats()
	if got, want := stA.Announced+stB.Announced, int64(len(orders)); got != want {
		t.Errorf("%d hashes announced between the two ends, want %d (each order once)", got, want)
	}
	if stA.Received != int64(len(shared)-aFirst+len(onlyB)) || stB.Received != int64(aFirst+len(onlyA)) {
		t.Errorf("a received %d, b %d; want %d and %d", stA.Received, stB.Received, len(shared)-aFirst+len(onlyB), aFirst+len(onlyA))
	}
	if stA.Fetched != int64(len(onlyB)) || stB.Fetched != int64(len(onlyA)) {
		t.Errorf("a fetched %d, b %d; want %d and %d (the orders the other held alone)", stA.Fetched, stB.Fetched, len(onlyB), len(onlyA))
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
