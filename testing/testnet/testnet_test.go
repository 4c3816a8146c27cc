package testnet

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
)

func TestNewConnectsEveryPair(t *testing.T) {
	hosts := New(t, 3)
	for i, a := range hosts {
		for j, b := range hosts {
			if i == j {
				continue
			}
			if got := a.Network().Connectedness(b.ID()); got != network.Connected {
				t.Errorf("host %d to host %d: connectedness %v, want Connected", i, j, got)
			}
		}
	}
}

func TestConnManagerKeepsTags(t *testing.T) {
	hosts := New(t, 2)
	a, b := hosts[0], hosts[1]
	a.ConnManager().TagPeer(b.ID(), "test/tag", 7)
	info := a.ConnManager().GetTagInfo(b.ID())
	if info == nil {
		t.Fatal("GetTagInfo returned nil for a connected, tagged peer")
	}
	if got := info.Tags["test/tag"]; got != 7 {
		t.Errorf("tag value %d, want 7", got)
	}
}

func TestWithoutConnecting(t *testing.T) {
	hosts := New(t, 3, WithoutConnecting())
	if n := len(hosts[0].Network().Peers()); n != 0 {
		t.Fatalf("host 0 has %d peers, want 0", n)
	}
	Connect(t, hosts[0], hosts[2])
	if got := hosts[2].Network().Connectedness(hosts[0].ID()); got != network.Connected {
		t.Errorf("after Connect: connectedness %v, want Connected", got)
	}
	if n := len(hosts[1].Network().Peers()); n != 0 {
		t.Errorf("host 1 has %d peers, want 0", n)
	}
}
