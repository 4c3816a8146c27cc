package news

import (
	"bytes"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
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
	l := &link{out: make(chan []byte, maxQueued)}
	l.out <- []byte("b")
	l.out <- []byte("c")
	if got := l.drain([]byte("a")); !bytes.Equal(got, []byte("abc")) {
		t.Errorf("drained %q, want %q", got, "abc")
	}
	if len(l.out) != 0 {
		t.Errorf("%d messages left queued", len(l.out))
	}
}
