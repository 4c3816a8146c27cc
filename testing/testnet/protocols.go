package testnet

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
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
// peerstore. ordersync's HostNode offers syncs only to peers it knows
// speak ordersync, and a peer learns of a protocol set up after the
// connection only from identify's push, a moment later; and the push can
// lose a race with the connection's first identify response, whose older
// protocol list may be stored after it (go-libp2p v0.51 sends no sequence
// with the protocols). So that tests which connect their hosts first and
// start their Services after neither race the push nor wait for one that
// never comes, the wrapper waits for each peer's identify of the host to
// end and then records in the peer's peerstore what the push says.
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

// SetStreamHandler sets the handler, then makes sure the open testnet
// hosts connected to h know h speaks pid.
func (h *protocolHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, handler)
	open.Lock()
	var peers []*protocolHost
	for o := range open.hosts {
		if o != h && o.Network().Connectedness(h.ID()) == network.Connected {
			peers = append(peers, o)
		}
	}
	open.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), p2phost.ConnectTimeout)
	defer cancel()
	for _, o := range peers {
		for _, c := range o.Network().ConnsToPeer(h.ID()) {
			select {
			case <-o.IDService().IdentifyWait(c):
			case <-ctx.Done():
			}
		}
		_ = o.Peerstore().AddProtocols(h.ID(), pid)
	}
}

// Close forgets the host and closes it.
func (h *protocolHost) Close() error {
	open.Lock()
	delete(open.hosts, h)
	open.Unlock()
	return h.Host.Close()
}
