package ordersync

import (
	"context"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ordersync/ordersync/testing/testnet"
)

// scopedStreams is a Node whose streams log the resource manager service
// their scope is put in.
type scopedStreams struct {
	*HostNode
	log *eventLog
}

func (n scopedStreams) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := n.HostNode.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return scopedStream{Stream: s, log: n.log}, nil
}

type scopedStream struct {
	network.Stream
	log *eventLog
}

func (s scopedStream) Scope() network.StreamScope {
	return loggedScope{StreamScope: s.Stream.Scope(), log: s.log}
}

type loggedScope struct {
	network.StreamScope
	log *eventLog
}

func (s loggedScope) SetService(name string) error {
	s.log.add(name)
	return s.StreamScope.SetService(name)
}

// Every stream a requester opens is put in the resource manager's
// ServiceName scope, the name a node sets service limits under.
func TestRequesterStreamsAreInTheServiceScope(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(49, 3), 10)}, testOptions(t, 1)...)
	log := &eventLog{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	requester := New(ctx, scopedStreams{HostNode: NewHostNode(hosts[0]), log: log},
		[]Subprotocol{newPager("/test/a", nil, 10)}, testOptions(t, 1)...)
	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got, want := log.list(), []string{ServiceName}; !slices.Equal(got, want) {
		t.Errorf("requester's streams were put in services %q, want %q", got, want)
	}
}
