package testnet

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"

	"github.com/ordersync/ordersync/internal/p2phost"
)

// open are the testnet hosts not yet closed: a host that starts speaking
// a protocol waits until those connected to it know.
var open = struct {
	sync.Mutex
	hosts map[*protocolHost]struct{}
}{hosts: make(map[*protocolHost]struct{})}

// protocolHost is a testnet host. Its SetStreamHandler returns once every
// open testnet host connected to it lists the protocol for it in its
// peerstore. A peer learns a protocol set up after the connection from
// identify's push, a moment later; ordersync's HostNode offers syncs only
// to peers it knows speak ordersync, so without the wait a test that
// connects its hosts first and starts its Services after would race the
// push.
type protocolHost struct {
	host.Host
}

func newProtocolHost(h host.Host) *protocolHost {
	ph := &protocolHost{Host: h}
	open.Lock()
	open.hosts[ph] = struct{}{}
	open.Unlock()
	return ph
}

// IDService is the wrapped host's identify service, which HostNode waits
// on.
func (h *protocolHost) IDService() identify.IDService {
	return h.Host.(interface{ IDService() identify.IDService }).IDService()
}

// SetStreamHandler sets the handler, then waits (bounded) until the open
// testnet hosts connected to h know h speaks pid.
func (h *protocolHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, handler)
	open.Lock()
	var peers []host.Host
	for o := range open.hosts {
		if o != h && o.Network().Connectedness(h.ID()) == network.Connected {
			peers = append(peers, o.Host)
		}
	}
	open.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), p2phost.ConnectTimeout)
	defer cancel()
	for _, o := range peers {
		waitProtocol(ctx, o, h.ID(), pid)
	}
}

// Close forgets the host and closes it.
func (h *protocolHost) Close() error {
	open.Lock()
	delete(open.hosts, h)
	open.Unlock()
	return h.Host.Close()
}

// waitProtocol waits until h's peerstore says p supports pid, or ctx ends.
func waitProtocol(ctx context.Context, h host.Host, p peer.ID, pid protocol.ID) {
	sub, err := h.EventBus().Subscribe([]interface{}{new(event.EvtPeerProtocolsUpdated), new(event.EvtPeerIdentificationCompleted)})
	if err != nil {
		return
	}
	defer sub.Close()
	// Subscribe first, then check, so that an update between the two is
	// not missed.
	for {
		if ok, _ := h.Peerstore().SupportsProtocols(p, pid); len(ok) > 0 {
			return
		}
		if h.Network().Connectedness(p) != network.Connected {
			return
		}
		select {
		case <-sub.Out():
		case <-ctx.Done():
			return
		}
	}
}
