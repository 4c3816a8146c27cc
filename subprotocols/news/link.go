package news

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	msmux "github.com/multiformats/go-multistream"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/zeroex"
)

// writeTimeout bounds one message's write on a link (a variable for
// tests); openTimeout the opening of its stream.
var writeTimeout = 5 * time.Second

const openTimeout = 10 * time.Second

// link is this node's news stream to one peer: announcements and gets go
// out on it, in order, from one writer; the answers to the gets come back
// on it, in the order of the gets. A link that fails is closed with every
// get waiting on it, and the next use opens a new one.
type link struct {
	n    *News
	peer peer.ID
	out  chan outgoing // messages to write, bounded

	mu      sync.Mutex
	pending []*getCall // gets written or queued, awaiting their answers
	// held is hashes to announce with the link's next write, or alone
	// when heldTimer fires (hold).
	held      []common.Hash
	heldTimer *time.Timer
	err       error // why the link closed; nil while it runs
	stream    network.Stream
	done      chan struct{} // closed with the link
}

// outgoing is a message queued on a link, with the hashes it tells the
// peer of: they are known to the peer (knownTable) once it is written,
// and forgotten as known if it never is.
type outgoing struct {
	msg  []byte
	told []common.Hash
	// pushed says whether the message pushes told's orders: a push that
	// is not written falls back to an announcement.
	pushed bool
}

// getCall is one get waiting for its answer.
type getCall struct {
	hashes []common.Hash
	answer chan []*zeroex.SignedOrder // gets the orders, or is closed on failure
}

// linkLocked returns this node's link to p, starting one if there is none.
// n.mu is held.
func (n *News) linkLocked(p peer.ID) *link {
	if l, ok := n.links[p]; ok {
		return l
	}
	l := &link{n: n, peer: p, out: make(chan outgoing, maxQueued), done: make(chan struct{})}
	if n.closed {
		l.err = errClosed
		close(l.done)
		return l
	}
	n.links[p] = l
	n.peer(p)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		l.run()
	}()
	return l
}

// link returns this node's link to p.
func (n *News) link(p peer.ID) *link {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.linkLocked(p)
}

// send queues msg, which tells the peer of no orders, without waiting;
// false when the link is closed or too far behind (the message is
// dropped).
func (l *link) send(msg []byte) bool {
	return l.tell(outgoing{msg: msg})
}

// tell queues m, whose told hashes the caller marked as being sent to
// the peer (knownTable.sending), without waiting; false when the link is
// closed or too far behind: then m is dropped as unsent (notSent).
func (l *link) tell(m outgoing) bool {
	l.mu.Lock()
	ok := l.queueLocked(m)
	l.mu.Unlock()
	if !ok {
		l.notSent(m)
	}
	return ok
}

func (l *link) queueLocked(m outgoing) bool {
	if l.err != nil {
		return false
	}
	select {
	case l.out <- m:
		return true
	default:
		return false
	}
}

// notSent settles what m told the peer when m was not written: the peer
// is no longer taken to hold those orders, and those m pushed are held
// to be announced on the peer's link (a new one if this one failed), as
// long as the peer is still a neighbour. An announcement not written is
// not held again: the second turn, or the syncs, cover it, and a peer
// whose streams keep failing costs one retry per push, not a loop.
func (l *link) notSent(m outgoing) {
	if len(m.told) == 0 {
		return
	}
	l.n.known.unsent(l.peer, m.told)
	if !m.pushed || l.n.ctx.Err() != nil || !l.n.stillNeighbor(l.peer) {
		return
	}
	if !l.n.link(l.peer).hold(m.told, l.n.cfg.lazyHold) {
		l.n.counter.dropped.Add(int64(len(m.told)))
	}
}

// hold keeps hashes, new orders to announce, to leave with whatever the
// link writes next, or alone after wait: an announcement is repair, not
// the fast path, and in the same write as a push it costs the link no
// packet of its own (no headers, no ACK). Which of them the peer is told
// is decided when they leave: those it announced or pushed to this node
// meanwhile are left out. false when the link is closed.
func (l *link) hold(hashes []common.Hash, wait time.Duration) bool {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return false
	}
	l.held = append(l.held, hashes...)
	switch {
	case wait <= 0 || len(l.held) >= maxHeld:
		held := l.takeHeldLocked()
		l.mu.Unlock()
		m := l.n.announcement(l.peer, held)
		return len(m.msg) == 0 || l.tell(m)
	case len(l.held) == len(hashes):
		l.heldTimer = time.AfterFunc(wait, l.flushHeld)
	}
	l.mu.Unlock()
	return true
}

// maxHeld bounds the hashes held on a link.
const maxHeld = MaxAnnounce

// flushHeld sends the held hashes' announcement alone: no write came to
// take them within their wait.
func (l *link) flushHeld() {
	l.mu.Lock()
	held := l.takeHeldLocked()
	l.mu.Unlock()
	if m := l.n.announcement(l.peer, held); len(m.msg) > 0 {
		l.tell(m)
	}
}

// takeHeld returns the announcement of the held hashes, which leaves with
// the write under way.
func (l *link) takeHeld() outgoing {
	l.mu.Lock()
	held := l.takeHeldLocked()
	l.mu.Unlock()
	return l.n.announcement(l.peer, held)
}

func (l *link) takeHeldLocked() []common.Hash {
	held := l.held
	l.held = nil
	if l.heldTimer != nil {
		l.heldTimer.Stop()
	}
	return held
}

// get asks the peer for the orders of hashes (at most MaxGet) and waits
// for its answer until ctx ends.
func (l *link) get(ctx context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error) {
	call := &getCall{hashes: hashes, answer: make(chan []*zeroex.SignedOrder, 1)}
	l.mu.Lock()
	if !l.queueLocked(outgoing{msg: appendHashes(nil, kindGet, hashes)}) {
		err := l.err
		l.mu.Unlock()
		if err == nil {
			err = errors.New("news: link too far behind")
		}
		return nil, err
	}
	l.pending = append(l.pending, call)
	l.mu.Unlock()
	select {
	case orders, ok := <-call.answer:
		if !ok {
			return nil, l.failure()
		}
		return orders, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// failure is why the link closed.
func (l *link) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return errors.New("news: link closed")
	}
	return l.err
}

// run opens the stream, then writes what is queued while a reader takes
// in the answers, until either fails or the link is closed.
func (l *link) run() {
	ctx, cancel := context.WithTimeout(l.n.ctx, openTimeout)
	s, err := l.n.node.NewStream(ctx, l.peer, ID)
	cancel()
	if err != nil {
		if isNotSupported(err) {
			l.n.mu.Lock()
			l.n.noNews[l.peer] = time.Now()
			l.n.mu.Unlock()
		}
		l.close(fmt.Errorf("news: opening a stream to %s: %w", l.peer, err))
		return
	}
	_ = s.Scope().SetService(ordersync.ServiceName)
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		_ = s.Reset()
		return
	}
	l.stream = s
	l.mu.Unlock()
	l.n.wg.Add(1)
	go func() {
		defer l.n.wg.Done()
		l.read(s)
	}()
	for {
		select {
		case m := <-l.out:
			batch := append(l.drain(m), l.takeHeld())
			var msg []byte
			for _, m := range batch {
				msg = append(msg, m.msg...)
			}
			_ = s.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := s.Write(msg); err != nil {
				// Closed first, so that what is held again goes to
				// a new link, not to this one.
				l.close(fmt.Errorf("news: writing to %s: %w", l.peer, err))
				for _, m := range batch {
					l.notSent(m)
				}
				return
			}
			for _, m := range batch {
				l.n.known.add(l.peer, m.told)
			}
		case <-l.done:
			return
		}
	}
}

// maxCoalesced bounds the bytes of queued messages written at once.
const maxCoalesced = 64 << 10

// drain returns m and the messages queued behind it, up to maxCoalesced
// bytes, so that they leave in one write: one packet, not one each (an
// announcement and a get to the same peer often meet in the queue).
func (l *link) drain(m outgoing) []outgoing {
	batch := []outgoing{m}
	for size := len(m.msg); size < maxCoalesced; {
		select {
		case next := <-l.out:
			batch = append(batch, next)
			size += len(next.msg)
		default:
			return batch
		}
	}
	return batch
}

// stillNeighbor reports whether p is connected to this node and has not
// refused news lately.
func (n *News) stillNeighbor(p peer.ID) bool {
	if !slices.Contains(n.node.Neighbors(), p) {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, refused := n.noNews[p]
	return !refused
}

// isNotSupported reports whether err says the peer does not speak news.
func isNotSupported(err error) bool {
	var notSupported msmux.ErrNotSupported[string]
	return errors.As(err, &notSupported) || strings.Contains(err.Error(), "protocols not supported")
}

// read takes in the answers to the link's gets, in order.
func (l *link) read(s network.Stream) {
	r := bufio.NewReaderSize(s, 4096)
	for {
		m, err := readMessage(r, s.Scope(), kindOrders)
		if err != nil {
			if isBroken(err) {
				l.n.node.AddPeerScore(l.peer, peerscore.InvalidMessage, peerscore.InvalidMessageDelta)
			}
			l.close(fmt.Errorf("news: reading from %s: %w", l.peer, err))
			return
		}
		l.mu.Lock()
		if len(l.pending) == 0 {
			l.mu.Unlock()
			l.n.node.AddPeerScore(l.peer, peerscore.InvalidMessage, peerscore.InvalidMessageDelta)
			l.close(fmt.Errorf("news: %s answered a get never made", l.peer))
			return
		}
		call := l.pending[0]
		l.pending = l.pending[1:]
		l.mu.Unlock()
		call.answer <- m.orders
	}
}

// close ends the link for err: its stream is reset, the gets waiting on
// it fail, it leaves the News's table, and the messages still queued are
// settled as not sent.
func (l *link) close(err error) {
	l.mu.Lock()
	if l.err != nil {
		l.mu.Unlock()
		return
	}
	l.err = err
	pending := l.pending
	l.pending = nil
	s := l.stream
	close(l.done)
	l.mu.Unlock()
	if s != nil {
		_ = s.Reset()
	}
	for _, c := range pending {
		close(c.answer)
	}
	l.n.mu.Lock()
	if l.n.links[l.peer] == l {
		delete(l.n.links, l.peer)
		l.n.forgetIdle(l.peer)
	}
	l.n.mu.Unlock()
	for { // nothing is queued once err is set
		select {
		case m := <-l.out:
			l.notSent(m)
		default:
			return
		}
	}
}
