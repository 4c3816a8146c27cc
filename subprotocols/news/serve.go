package news

import (
	"bufio"
	"context"
	"errors"
	"io"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/zeroex"
)

// handleStream serves a peer's news stream: its announcements start
// fetches, its gets are answered in order.
func (n *News) handleStream(s network.Stream) {
	p := s.Conn().RemotePeer()
	if err := s.Scope().SetService(ordersync.ServiceName); err != nil {
		_ = s.Reset()
		return
	}
	if !n.enter(p) {
		_ = s.Reset()
		return
	}
	defer n.leave(p)
	r := bufio.NewReaderSize(s, 4096)
	for {
		m, err := readMessage(r, s.Scope(), kindAnnounce, kindGet)
		if err != nil {
			if isBroken(err) {
				n.node.AddPeerScore(p, peerscore.InvalidMessage, peerscore.InvalidMessageDelta)
			}
			if errors.Is(err, io.EOF) {
				_ = s.Close()
			} else {
				_ = s.Reset()
			}
			return
		}
		answer := n.handleMessage(p, m)
		if answer == nil {
			continue
		}
		_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := s.Write(answer); err != nil {
			_ = s.Reset()
			return
		}
	}
}

// handleMessage takes one message of p's on p's stream: an announcement
// starts fetches and has no answer; a get is answered.
func (n *News) handleMessage(p peer.ID, m message) (answer []byte) {
	switch m.kind {
	case kindAnnounce:
		n.announced(p, m.hashes)
	case kindGet:
		return appendOrders(nil, n.serve(p, m.hashes))
	}
	return nil
}

// enter counts a stream of p's in, false when p has too many open.
func (n *News) enter(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	st := n.peer(p)
	if st.streams >= maxStreamsPerPeer {
		return false
	}
	st.streams++
	return true
}

func (n *News) leave(p peer.ID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.peer(p).streams--
	n.forgetIdle(p)
}

// serve returns the JSON of the orders of hashes that the store holds and
// that have not expired, within p's budget: a get over it is answered
// with no orders.
func (n *News) serve(p peer.ID, hashes []common.Hash) [][]byte {
	if !n.takeIn(p, len(hashes)) {
		return nil
	}
	orders := n.lookUp(n.ctx, hashes)
	expiry := n.validation.Expiry()
	var out [][]byte
	seen := make(map[common.Hash]bool, len(hashes))
	for i, o := range orders {
		if o == nil || seen[hashes[i]] || expiry.Expired(o) {
			continue
		}
		seen[hashes[i]] = true
		b, err := o.AppendJSON(nil)
		if err != nil {
			continue
		}
		out = append(out, b)
	}
	n.counter.served.Add(int64(len(out)))
	return out
}

// lookUp returns the stored order of each hash, nil where the store holds
// none or cannot say.
func (n *News) lookUp(ctx context.Context, hashes []common.Hash) []*zeroex.SignedOrder {
	if many, ok := n.store.(orderstore.ManyGetter); ok {
		got, err := many.GetMany(ctx, hashes)
		if err == nil && len(got) == len(hashes) {
			return got
		}
		return make([]*zeroex.SignedOrder, len(hashes))
	}
	got := make([]*zeroex.SignedOrder, len(hashes))
	getter := n.store.(orderstore.Getter) // checked by New
	for i, h := range hashes {
		got[i], _ = getter.Get(h)
	}
	return got
}
