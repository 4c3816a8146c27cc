package news

import (
	"bytes"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A batch gives its hashes back at once when it is full or has no delay,
// and otherwise holds them for its timer.
func TestBatchFillsOrWaits(t *testing.T) {
	now := newBatch[common.Hash](0, MaxAnnounce)
	defer now.stop()
	if got := now.add(common.Hash{1}); len(got) != 1 {
		t.Errorf("no delay: got %d hashes back, want 1", len(got))
	}
	b := newBatch[common.Hash](time.Hour, MaxAnnounce)
	defer b.stop()
	for i := range MaxAnnounce - 1 {
		if got := b.add(common.Hash{byte(i), byte(i >> 8)}); got != nil {
			t.Fatalf("hash %d: batch given back before full", i)
		}
	}
	if got := b.add(common.Hash{0xff, 0xff}); len(got) != MaxAnnounce {
		t.Errorf("full batch: got %d hashes back, want %d", len(got), MaxAnnounce)
	}
	if got := b.take(); len(got) != 0 {
		t.Errorf("after giving back: %d hashes left, want none", len(got))
	}
}

// A hash counts as heard once a peer is known to hold it, and only then.
func TestKnownHeard(t *testing.T) {
	k := newKnownTable(4)
	h := common.Hash{7}
	if k.heard(h) {
		t.Error("an unseen hash counts as heard")
	}
	k.reject([]common.Hash{h})
	if k.heard(h) {
		t.Error("a rejected hash no peer holds counts as heard")
	}
	k.add(peer.ID("p"), []common.Hash{h})
	if !k.heard(h) {
		t.Error("a hash a peer holds does not count as heard")
	}
}

// Messages queued behind one leave with it, in order, in one write.
func TestDrainCoalesces(t *testing.T) {
	l := &link{out: make(chan outgoing, maxQueued)}
	l.out <- outgoing{msg: []byte("b")}
	l.out <- outgoing{msg: []byte("c")}
	var got []byte
	for _, m := range l.drain(outgoing{msg: []byte("a")}) {
		got = append(got, m.msg...)
	}
	if !bytes.Equal(got, []byte("abc")) {
		t.Errorf("drained %q, want %q", got, "abc")
	}
	if len(l.out) != 0 {
		t.Errorf("%d messages left queued", len(l.out))
	}
}

// The wait for pushes starts at graftWait, follows the measured lag with
// room for its deviation, and stays within its bounds.
func TestLagMeterWait(t *testing.T) {
	var m lagMeter
	if got := m.wait(); got != graftWait {
		t.Errorf("no samples: wait %v, want %v", got, graftWait)
	}
	for range 50 {
		m.add(100 * time.Millisecond)
	}
	if got := m.wait(); got < minGraftWait || got > 300*time.Millisecond {
		t.Errorf("steady 100ms lags: wait %v, want about %v", got, minGraftWait)
	}
	for range 50 {
		m.add(time.Second)
		m.add(2 * time.Second)
	}
	if got := m.wait(); got < 2*time.Second || got > maxGraftWait {
		t.Errorf("lags of 1-2s: wait %v, want 2s to %v", got, maxGraftWait)
	}
	m.add(time.Hour)
	if got := m.wait(); got != maxGraftWait {
		t.Errorf("after an hour's lag: wait %v, want the bound %v", got, maxGraftWait)
	}
}

// Hashes held on a link leave with its next write, less those the peer
// showed it holds meanwhile; unless a write takes them, they leave alone
// when their hold ends.
func TestHeldAnnouncementsLeaveWithAWrite(t *testing.T) {
	n := startNews(t, testnet.NewHost(t), nil, nil).News
	p := peer.ID("neighbour")
	l := &link{n: n, peer: p, out: make(chan outgoing, maxQueued)}
	hashes := hashesOf(t, nodetest.Orders(3))
	if !l.hold(hashes[:2], time.Hour) || len(l.out) != 0 {
		t.Fatal("held hashes were not held")
	}
	n.handleMessage(p, message{kind: kindAnnounce, origin: originOf("origin"), hashes: hashes[:1]})
	if got, want := l.takeHeld().msg, appendAnnounce(nil, n.self, hashes[1:2]); !bytes.Equal(got, want) {
		t.Errorf("the write took %x, want %x (the hashes the peer did not announce)", got, want)
	}
	if l.takeHeld().msg != nil {
		t.Error("held hashes left twice")
	}
	if !l.hold(hashes[2:], time.Millisecond) {
		t.Fatal("the hold failed")
	}
	select {
	case got := <-l.out:
		if !bytes.Equal(got.msg, appendAnnounce(nil, n.self, hashes[2:])) {
			t.Errorf("the hold's end sent %x", got.msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("held hashes never left alone")
	}
}
