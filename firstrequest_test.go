package ordersync

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ordersync/ordersync/testing/testnet"
)

// eventLog records, in order, what a requester did.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// loggedFirstRequest is a pager that logs each time it makes first-request
// metadata.
type loggedFirstRequest struct {
	*pager
	log *eventLog
}

func (p loggedFirstRequest) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	p.log.add("first request metadata")
	return p.pager.GenerateFirstRequestMetadata()
}

// loggedStreams is a Node that logs each stream it opens.
type loggedStreams struct {
	*HostNode
	log *eventLog
}

func (n loggedStreams) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	n.log.add("stream opened")
	return n.HostNode.NewStream(ctx, p, pids...)
}

// A sync's first request is built before its stream opens: a subprotocol
// slow to make its first-request metadata (reconcile counting a large
// store) would otherwise hold an opened stream past the provider host's
// negotiation timeout, which resets it, in every round.
func TestFirstRequestIsBuiltBeforeTheStreamOpens(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(48, 3), 10)}, testOptions(t, 1)...)
	log := &eventLog{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	requester := New(ctx, loggedStreams{HostNode: NewHostNode(hosts[0]), log: log},
		[]Subprotocol{loggedFirstRequest{pager: newPager("/test/a", nil, 10), log: log}}, testOptions(t, 1)...)
	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got, want := log.list(), []string{"first request metadata", "stream opened"}; !slices.Equal(got, want) {
		t.Errorf("requester did %q, want %q", got, want)
	}
}
