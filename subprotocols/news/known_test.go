package news

import (
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/nodetest"
)

// A peer marked as being sent hashes is taken to hold them until the send
// is settled: written, it holds them; not written, it is forgotten as
// holding them, unless it showed meanwhile that it does (it announced or
// pushed them).
func TestKnownWhileSending(t *testing.T) {
	k := newKnownTable(16)
	p, q := peer.ID("p"), peer.ID("q")
	hashes := hashesOf(t, nodetest.Orders(3))
	k.add(q, hashes)
	k.sending(p, hashes)
	if got := k.unknownTo(p, hashes); len(got) != 0 {
		t.Fatalf("%d hashes being sent counted as unknown", len(got))
	}
	k.add(p, hashes[:1])      // written
	k.sending(p, hashes[1:2]) // sent again: still only being sent
	k.unsent(p, hashes)
	if got := k.unknownTo(p, hashes); len(got) != 2 || got[0] != hashes[1] || got[1] != hashes[2] {
		t.Errorf("after the send failed, %d unknown to p; want the 2 never written", len(got))
	}
	if got := k.unknownTo(q, hashes); len(got) != 0 {
		t.Error("a failed send to p forgot that q holds the hashes")
	}
	// A peer that showed it holds a hash keeps it through a failed send.
	k.sending(p, hashes[1:2])
	k.add(p, hashes[1:2])
	k.unsent(p, hashes[1:2])
	if len(k.unknownTo(p, hashes[1:2])) != 0 {
		t.Error("a failed send forgot a hash the peer showed it holds")
	}
}

// A hash is remembered as known to at most knownPeers peers, the oldest
// forgotten first, also after a failed send emptied a slot.
func TestKnownPeersOldestGoFirst(t *testing.T) {
	k := newKnownTable(16)
	h := hashesOf(t, nodetest.Orders(1))
	p := func(i int) peer.ID { return peer.ID(fmt.Sprint("p", i)) }
	for i := range knownPeers {
		k.add(p(i), h)
	}
	k.sending(p(knownPeers), h) // p0 goes
	k.unsent(p(knownPeers), h)
	k.add(p(knownPeers+1), h) // a free slot: no one goes
	k.add(p(knownPeers+2), h) // p1 goes
	for i := range knownPeers + 3 {
		want := i >= 2 && i != knownPeers
		if got := len(k.unknownTo(p(i), h)) == 0; got != want {
			t.Errorf("p%d known: %v, want %v", i, got, want)
		}
	}
}
