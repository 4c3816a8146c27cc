package ordersync

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ordersync/ordersync/peerscore"
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

// recordingNode is a HostNode that records the peers a Service opened
// streams to and the peers it scored.
type recordingNode struct {
	*HostNode
	mu             sync.Mutex
	dialed, scored map[peer.ID]int
}

func newRecordingNode(h host.Host) *recordingNode {
	return &recordingNode{HostNode: NewHostNode(h), dialed: map[peer.ID]int{}, scored: map[peer.ID]int{}}
}

func (n *recordingNode) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	n.mu.Lock()
	n.dialed[p]++
	n.mu.Unlock()
	return n.HostNode.NewStream(ctx, p, pids...)
}

func (n *recordingNode) AddPeerScore(p peer.ID, tag string, diff int) {
	n.mu.Lock()
	n.scored[p]++
	n.mu.Unlock()
	n.HostNode.AddPeerScore(p, tag, diff)
}

func (n *recordingNode) SetPeerScore(p peer.ID, tag string, val int) {
	n.mu.Lock()
	n.scored[p]++
	n.mu.Unlock()
	n.HostNode.SetPeerScore(p, tag, val)
}

func (n *recordingNode) counts(p peer.ID) (dialed, scored int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dialed[p], n.scored[p]
}

// hiddenNeighbors is a Node that cannot tell which neighbours speak
// ordersync.
type hiddenNeighbors struct{ Node }

// TestNeighborWithoutOrdersyncIsNeverTried: a host connected to an
// ordersync provider and to a peer that speaks only other protocols (a DHT
// or pubsub peer) offers syncs only to the provider; the other is never
// tried and never scored, round after round.
func TestNeighborWithoutOrdersyncIsNeverTried(t *testing.T) {
	// Services start before their hosts connect, as in a node: identify
	// then tells each host the other's protocols (a handler set later
	// reaches peers by identify's push, a moment after).
	hosts := testnet.New(t, 3, testnet.WithoutConnecting())
	requester, provider, other := hosts[0], hosts[1], hosts[2]
	other.SetStreamHandler("/some/other/protocol/1", func(s network.Stream) { _ = s.Reset() })
	newService(t, provider, []Subprotocol{newPager("/test/a", orders(61, 20), 10)}, testOptions(t, 1)...)
	node := newRecordingNode(requester)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := New(ctx, node, []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	testnet.Connect(t, requester, provider)
	testnet.Connect(t, requester, other)

	if got := node.NeighborsSupporting(ctx, ID); !slices.Equal(got, []peer.ID{provider.ID()}) {
		t.Fatalf("NeighborsSupporting(ordersync) = %v, want only the provider %s", got, provider.ID())
	}
	for range 5 {
		if err := svc.GetOrders(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if d, s := node.counts(other.ID()); d != 0 || s != 0 {
		t.Fatalf("the neighbour without ordersync was dialled %d times and scored %d times", d, s)
	}
	if d, _ := node.counts(provider.ID()); d != 5 {
		t.Fatalf("the provider was dialled %d times in 5 rounds, want 5", d)
	}
	if info := requester.ConnManager().GetTagInfo(other.ID()); info != nil && len(info.Tags) != 0 {
		t.Fatalf("the neighbour without ordersync has tags %v", info.Tags)
	}
}

// TestProtocolNotSupportedIsNotScored: a Node that cannot tell which
// neighbours speak ordersync has every one tried; the one that answers
// that it does not speak it loses nothing for it.
func TestProtocolNotSupportedIsNotScored(t *testing.T) {
	hosts := testnet.New(t, 3)
	requester, provider, other := hosts[0], hosts[1], hosts[2]
	newService(t, provider, []Subprotocol{newPager("/test/a", orders(62, 20), 10)}, testOptions(t, 1)...)
	node := newRecordingNode(requester)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Two peers wanted, one there: each of the 3 rounds tries both.
	svc := New(ctx, hiddenNeighbors{node}, []Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 3)...)
	if err := svc.GetOrders(ctx, 2); err == nil {
		t.Fatal("GetOrders(2) with one provider: no error")
	}
	d, s := node.counts(other.ID())
	if d == 0 {
		t.Fatal("a Node without ProtocolNeighbors: the neighbour without ordersync was never tried")
	}
	if s != 0 {
		t.Fatalf("the neighbour without ordersync was scored %d times for not speaking it", s)
	}
	if _, ok := tag(requester, other.ID(), peerscore.UnexpectedDisconnect); ok {
		t.Fatal("the neighbour without ordersync has an unexpected-disconnect score")
	}
}
