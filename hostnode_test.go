package ordersync

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/testing/testnet"
)

func TestHostNodeScoresAreConnManagerTags(t *testing.T) {
	hosts := testnet.New(t, 2)
	n := NewHostNode(hosts[0])
	p := hosts[1].ID()
	if n.ID() != hosts[0].ID() {
		t.Fatalf("ID %s, want %s", n.ID(), hosts[0].ID())
	}
	if got := n.Neighbors(); !slices.Equal(got, []peer.ID{p}) {
		t.Fatalf("Neighbors %v, want [%s]", got, p)
	}
	n.AddPeerScore(p, "t", -1)
	n.AddPeerScore(p, "t", -1)
	if v, _ := tag(hosts[0], p, "t"); v != -2 {
		t.Errorf("after adding -1 twice: %d, want -2", v)
	}
	n.SetPeerScore(p, "t", 7)
	if v, _ := tag(hosts[0], p, "t"); v != 7 {
		t.Errorf("after setting 7: %d, want 7", v)
	}
	n.UnsetPeerScore(p, "t")
	if _, ok := tag(hosts[0], p, "t"); ok {
		t.Error("tag still there after UnsetPeerScore")
	}
}
