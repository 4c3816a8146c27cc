// The news protocol under a hostile peer (package subprotocols/news): an
// announcer that floods hashes, never delivers, delivers orders that fail
// the node's checks or that it never announced, and writes garbage; a
// pusher that floods orders or pushes invalid ones; a peer that flaps
// between prune and graft.
package ordersync_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/news"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/attacktest"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// newsVictim is a node running news whose peer is an attacker.
type newsVictim struct {
	*nodetest.Node
	news *news.News
}

func startNewsVictim(t *testing.T, h host.Host, orders []*zeroex.SignedOrder, serviceOpts []ordersync.Option, opts ...news.Option) *newsVictim {
	t.Helper()
	n := nodetest.StartNodeWith(t, h, orders, nil, []string{reconcile.Name}, serviceOpts)
	ctx, cancel := context.WithCancel(context.Background())
	nw, err := news.New(ctx, n.Service, ordersync.NewHostNode(h), n.Store, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = nw.Close()
	})
	return &newsVictim{Node: n, news: nw}
}

// newsAttacker answers the victim's gets on its news stream with answer
// (nil: never answers), and tells gets of each get it read.
func newsAttacker(t *testing.T, h host.Host, answer func(get []common.Hash) []byte) (gets <-chan []common.Hash) {
	ch := make(chan []common.Hash, 1024)
	h.SetStreamHandler(news.ID, func(s network.Stream) {
		defer s.Reset()
		r := bufio.NewReader(s)
		for {
			kind, body, err := attacktest.ReadNewsMessage(r, 1<<20)
			if err != nil {
				return
			}
			if kind != attacktest.NewsGet {
				continue
			}
			hashes := attacktest.NewsGetHashes(body)
			select {
			case ch <- hashes:
			default:
			}
			if answer == nil {
				continue
			}
			if _, err := s.Write(answer(hashes)); err != nil {
				return
			}
		}
	})
	return ch
}

// openNews opens the attacker's news stream to the victim.
func openNews(t *testing.T, from host.Host, to host.Host) network.Stream {
	t.Helper()
	s, err := from.NewStream(t.Context(), to.ID(), news.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	return s
}

// floodNews writes messages messages made by next, each carrying items
// hashes or orders, on s, and waits until the victim took (taken) or dropped them all
// and scored the attacker for the flood.
func floodNews(t *testing.T, victim *newsVictim, s network.Stream, attacker peer.ID, next func() []byte, messages, items int, taken func(news.Stats) int64) {
	t.Helper()
	for range messages {
		if _, err := s.Write(next()); err != nil {
			t.Fatal(err)
		}
	}
	nodetest.WaitUntil(t, "flood dropped and scored", func() bool {
		st := victim.news.Stats()
		return taken(st)+st.Dropped == int64(messages*items) && nodetest.Tag(victim.Host, attacker, news.Flood) < 0
	})
}

// brokenSignature returns a fresh copy of o (not a struct copy: an order
// caches its JSON) with a byte of its signature flipped.
func brokenSignature(t *testing.T, o *zeroex.SignedOrder) *zeroex.SignedOrder {
	t.Helper()
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	c := new(zeroex.SignedOrder)
	if err := c.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	c.Signature[5] ^= 0xff
	c.ResetHash() // the decoder kept the JSON it read, good signature and all
	return c
}

// rejectAllFilled is a Validator that rejects every order as filled.
func rejectAllFilled(_ context.Context, _ peer.ID, orders []*zeroex.SignedOrder) ([]ordersync.Verdict, error) {
	v := make([]ordersync.Verdict, len(orders))
	for i := range v {
		v[i] = ordersync.Verdict{Result: ordersync.ValidationReject, Reason: ordersync.RejectFilled}
	}
	return v, nil
}

func randomHashes(n int) []common.Hash {
	out := make([]common.Hash, n)
	for i := range out {
		_, _ = rand.Read(out[i][:])
	}
	return out
}

// randomOrigin is an origin tag of no node: a hostile peer chooses any.
func randomOrigin() attacktest.NewsOrigin {
	var o attacktest.NewsOrigin
	_, _ = rand.Read(o[:])
	return o
}

// A flood of announcements beyond the peer's budget is dropped and
// scored; what was taken is asked for, and never delivered, scored too.
func TestNewsAttackFlood(t *testing.T) {
	hosts := testnet.New(t, 2)
	attacker := hosts[0]
	gets := newsAttacker(t, attacker, func([]common.Hash) []byte { return attacktest.NewsOrdersMessage() })
	victim := startNewsVictim(t, hosts[1], nil, nil)
	s := openNews(t, attacker, hosts[1])
	flood := func() []byte { return attacktest.NewsAnnouncement(randomOrigin(), randomHashes(news.MaxAnnounce)) }
	floodNews(t, victim, s, attacker.ID(), flood, 30, news.MaxAnnounce, func(st news.Stats) int64 { return st.Received })
	<-gets
	nodetest.WaitUntil(t, "undelivered scored", func() bool {
		return nodetest.Tag(hosts[1], attacker.ID(), peerscore.UndeliveredOrders) < 0
	})
	st := victim.news.Stats()
	if st.Received > 2*news.DefaultBurst+news.MaxAnnounce || st.Dropped == 0 {
		t.Errorf("took %d hashes, dropped %d: want at most about twice the burst taken", st.Received, st.Dropped)
	}
	if victim.Store.Len() != 0 {
		t.Errorf("victim holds %d orders, want none", victim.Store.Len())
	}
}

// An announcer that never answers its get: the get times out, the
// announcer is scored, and the hashes are released, so that an honest
// neighbour's announcement of the same orders delivers them.
func TestNewsAttackNeverDelivers(t *testing.T) {
	hosts := testnet.New(t, 3)
	attacker := hosts[0]
	gets := newsAttacker(t, attacker, nil)
	victim := startNewsVictim(t, hosts[1], nil, nil, news.WithFetchTimeout(300*time.Millisecond))
	honest := startNewsVictim(t, hosts[2], nil, nil)
	orders := nodetest.Orders(10)
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		hashes[i], _ = o.ComputeOrderHash()
	}
	s := openNews(t, attacker, hosts[1])
	if _, err := s.Write(attacktest.NewsAnnouncement(attacktest.NewsOrigin{}, hashes)); err != nil {
		t.Fatal(err)
	}
	<-gets // the victim claimed them and asked the attacker
	sub := victim.Store.Subscribe(0)
	defer sub.Close()
	if _, err := honest.Store.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitUntil(t, "orders delivered by the honest peer", func() bool { return victim.Store.Len() == len(orders) })
	if st := victim.news.Stats(); st.Timeouts != 1 {
		t.Errorf("timeouts %d, want 1", st.Timeouts)
	}
	if got := nodetest.Tag(hosts[1], attacker.ID(), peerscore.MessageTimeout); got >= 0 {
		t.Errorf("attacker's %s = %d, want < 0", peerscore.MessageTimeout, got)
	}
}

// Delivered orders that fail the node's checks are counted and scored as
// a sync's are: a broken signature, orders never announced, orders the
// node's Validator rejects. None is stored.
func TestNewsAttackInvalidOrders(t *testing.T) {
	orders := nodetest.Orders(30)
	announced, other := orders[:20], orders[20:]
	broken := make([]*zeroex.SignedOrder, 5)
	for i, o := range announced[:5] {
		broken[i] = brokenSignature(t, o)
	}
	hosts := testnet.New(t, 2)
	attacker := hosts[0]
	byHash := map[common.Hash][]byte{}
	for i, o := range announced {
		if i < 5 {
			o = broken[i]
		}
		h, _ := o.ComputeOrderHash()
		b, err := o.AppendJSONUncached(nil)
		if err != nil {
			t.Fatal(err)
		}
		byHash[h] = b
	}
	unasked, _ := other[0].MarshalJSON()
	newsAttacker(t, attacker, func(get []common.Hash) []byte {
		answer := [][]byte{unasked}
		for _, h := range get {
			if b, ok := byHash[h]; ok {
				answer = append(answer, b)
			}
		}
		return attacktest.NewsOrdersMessage(answer...)
	})
	victim := startNewsVictim(t, hosts[1], nil, []ordersync.Option{ordersync.WithValidator(rejectAllFilled, time.Second)})
	s := openNews(t, attacker, hosts[1])
	hashes := make([]common.Hash, 0, len(announced))
	for h := range byHash {
		hashes = append(hashes, h)
	}
	if _, err := s.Write(attacktest.NewsAnnouncement(attacktest.NewsOrigin{}, hashes)); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitUntil(t, "the delivered orders judged", func() bool {
		st := victim.Service.Stats()
		return st.OrdersRejected[ordersync.RejectFilled] == 15 && st.OrdersRejected[ordersync.RejectBadSignature] == 5
	})
	for _, tag := range []string{peerscore.InvalidOrderSignature, peerscore.InvalidOrder, peerscore.RejectedOrder} {
		if got := nodetest.Tag(hosts[1], attacker.ID(), tag); got >= 0 {
			t.Errorf("attacker's %s = %d, want < 0", tag, got)
		}
	}
	if victim.Store.Len() != 0 {
		t.Errorf("victim stored %d orders, want none", victim.Store.Len())
	}
}

// A message of no known kind, or one that says it is larger than any the
// protocol allows, resets the stream and is scored.
func TestNewsAttackGarbage(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"unknown kind", attacktest.NewsMessage(9, []byte("hello"))},
		{"orders from the opener", attacktest.NewsOrdersMessage()},
		{"huge length", []byte{attacktest.NewsAnnounce, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"hashes cut short", attacktest.NewsMessage(attacktest.NewsAnnounce, make([]byte, attacktest.NewsOriginLen+33))},
		{"announcement of an origin alone", attacktest.NewsAnnouncement(attacktest.NewsOrigin{1}, nil)},
		{"origin cut short", attacktest.NewsMessage(attacktest.NewsPrune, make([]byte, attacktest.NewsOriginLen-1))},
		{"empty get", attacktest.NewsMessage(attacktest.NewsGet, nil)},
		{"push of no orders", attacktest.NewsPushOf(attacktest.NewsPush, attacktest.NewsOrigin{})},
		{"push without its origin", attacktest.NewsMessage(attacktest.NewsPush, nil)},
		{"relay of no orders", attacktest.NewsPushOf(attacktest.NewsRelay, attacktest.NewsOrigin{})},
		{"push of broken JSON", attacktest.NewsPushOf(attacktest.NewsPush, attacktest.NewsOrigin{}, []byte("{]"))},
		{"prune with more than an origin", attacktest.NewsMessage(attacktest.NewsPrune, make([]byte, attacktest.NewsOriginLen+1))},
		{"graft with more than an origin", attacktest.NewsMessage(attacktest.NewsGraft, make([]byte, 32))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			startNewsVictim(t, hosts[1], nil, nil)
			s := openNews(t, hosts[0], hosts[1])
			if _, err := s.Write(tc.msg); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadAll(s); err == nil {
				t.Error("stream ended cleanly, want it reset")
			}
			if got := nodetest.Tag(hosts[1], hosts[0].ID(), peerscore.InvalidMessage); got >= 0 {
				t.Errorf("%s = %d, want < 0", peerscore.InvalidMessage, got)
			}
		})
	}
}

// A flood of pushes beyond the peer's budget is dropped and scored; the
// one order it carries is stored once, and pushes of it after that are
// duplicates that prune the pusher.
func TestNewsAttackPushFlood(t *testing.T) {
	hosts := testnet.New(t, 2)
	attacker := hosts[0]
	prunes := make(chan struct{}, 1)
	attacker.SetStreamHandler(news.ID, func(s network.Stream) {
		defer s.Reset()
		r := bufio.NewReader(s)
		for {
			kind, _, err := attacktest.ReadNewsMessage(r, 1<<20)
			if err != nil {
				return
			}
			if kind == attacktest.NewsPrune {
				select {
				case prunes <- struct{}{}:
				default:
				}
			}
		}
	})
	victim := startNewsVictim(t, hosts[1], nil, nil)
	order, err := nodetest.Orders(1)[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	copies := make([][]byte, news.MaxGet)
	for i := range copies {
		copies[i] = order
	}
	s := openNews(t, attacker, hosts[1])
	flood := func() []byte { return attacktest.NewsPushOf(attacktest.NewsPush, attacktest.NewsOrigin{7}, copies...) }
	floodNews(t, victim, s, attacker.ID(), flood, 12, news.MaxGet, func(st news.Stats) int64 { return st.PushedIn })
	<-prunes
	st := victim.news.Stats()
	if st.PushedIn > 2*news.DefaultBurst+news.MaxGet || st.Dropped == 0 || st.Pruned == 0 {
		t.Errorf("%+v: want at most about twice the burst taken, some dropped, the pusher pruned", st)
	}
	if victim.Store.Len() != 1 {
		t.Errorf("victim holds %d orders, want the one pushed", victim.Store.Len())
	}
}

// Pushed orders that fail the node's checks are counted and scored as
// fetched ones are, and none is stored; pushed again, those the Validator
// rejected are dropped unjudged (their verdict covers the hash), while a
// broken signature, which the hash does not cover, is checked again.
func TestNewsAttackPushInvalid(t *testing.T) {
	orders := nodetest.Orders(20)
	encoded := make([][]byte, len(orders))
	for i, o := range orders {
		if i < 5 {
			o = brokenSignature(t, o)
		}
		b, err := o.AppendJSONUncached(nil)
		if err != nil {
			t.Fatal(err)
		}
		encoded[i] = b
	}
	hosts := testnet.New(t, 2)
	attacker := hosts[0]
	newsAttacker(t, attacker, nil)
	victim := startNewsVictim(t, hosts[1], nil, []ordersync.Option{ordersync.WithValidator(rejectAllFilled, time.Second)})
	s := openNews(t, attacker, hosts[1])
	push := attacktest.NewsPushOf(attacktest.NewsPush, randomOrigin(), encoded...)
	for round := 1; round <= 2; round++ {
		if _, err := s.Write(push); err != nil {
			t.Fatal(err)
		}
		nodetest.WaitUntil(t, "the pushed orders judged", func() bool {
			return victim.Service.Stats().OrdersRejected[ordersync.RejectBadSignature] == int64(5*round)
		})
	}
	if got := victim.Service.Stats().OrdersRejected[ordersync.RejectFilled]; got != 15 {
		t.Errorf("%d orders rejected by the Validator, want 15: judged once, not again when pushed again", got)
	}
	for _, tag := range []string{peerscore.InvalidOrderSignature, peerscore.RejectedOrder} {
		if got := nodetest.Tag(hosts[1], attacker.ID(), tag); got >= 0 {
			t.Errorf("attacker's %s = %d, want < 0", tag, got)
		}
	}
	if victim.Store.Len() != 0 {
		t.Errorf("victim stored %d orders, want none", victim.Store.Len())
	}
}

// A peer that flaps between prune and graft, each of a new origin's tree,
// spends its budget like any other message: past it, the messages are
// dropped and it is scored. (The trees kept are bounded besides: the
// package's own tests count them.)
func TestNewsAttackPruneGraftFlapping(t *testing.T) {
	hosts := testnet.New(t, 2)
	attacker := hosts[0]
	newsAttacker(t, attacker, nil)
	victim := startNewsVictim(t, hosts[1], nil, nil)
	s := openNews(t, attacker, hosts[1])
	var flaps []byte
	for range 2 * news.DefaultBurst {
		flaps = append(flaps, attacktest.NewsTree(attacktest.NewsPrune, randomOrigin())...)
		flaps = append(flaps, attacktest.NewsTree(attacktest.NewsGraft, randomOrigin())...)
	}
	if _, err := s.Write(flaps); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitUntil(t, "flapping dropped and scored", func() bool {
		return victim.news.Stats().Dropped > 0 && nodetest.Tag(hosts[1], attacker.ID(), news.Flood) < 0
	})
}
