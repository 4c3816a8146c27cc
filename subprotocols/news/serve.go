package news

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
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
		m, err := readBegun(s, r, kindAnnounce, kindGet, kindPush, kindRelay, kindPrune, kindGraft)
		if err != nil {
			switch {
			case isBroken(err):
				n.node.AddPeerScore(p, peerscore.InvalidMessage, peerscore.InvalidMessageDelta)
			case errors.Is(err, os.ErrDeadlineExceeded):
				n.node.AddPeerScore(p, peerscore.MessageTimeout, peerscore.MessageTimeoutDelta)
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

// messageTimeout bounds how long a peer may take to send the rest of a
// message it has begun. Between messages the stream may idle: it is the
// peer's standing link, and a peer has at most maxStreamsPerPeer.
var messageTimeout = 10 * time.Second

// readBegun waits, without a deadline, for the first byte of the peer's
// next message, and then reads the message whole within messageTimeout,
// so that a peer that stops mid-message does not hold the stream, its
// goroutine and the memory reserved for the message without end.
func readBegun(s network.Stream, r *bufio.Reader, allowed ...byte) (message, error) {
	if _, err := r.Peek(1); err != nil {
		return message{}, err
	}
	_ = s.SetReadDeadline(time.Now().Add(messageTimeout))
	m, err := readMessage(r, s.Scope(), allowed...)
	if err != nil {
		return m, err
	}
	_ = s.SetReadDeadline(time.Time{})
	return m, nil
}

// handleMessage takes one message of p's on p's stream: an announcement
// starts fetches, a push is taken in, a prune or graft changes how this
// node sends p new orders; none of these has an answer. A get is answered.
func (n *News) handleMessage(p peer.ID, m message) (answer []byte) {
	switch m.kind {
	case kindAnnounce:
		n.announced(p, m.origin, m.hashes)
	case kindPush:
		n.pushedIn(p, m.origin, m.orders, false)
	case kindRelay:
		n.pushedIn(p, m.origin, m.orders, true)
	case kindPrune:
		n.setLazy(p, m.origin, true)
	case kindGraft:
		n.setLazy(p, m.origin, false)
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
