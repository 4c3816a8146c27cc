package news

import (
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// knownPeers is how many peers a hash is remembered as known to: more
// than a node's usual neighbours.
const knownPeers = 8

// knownEntry is what is remembered of one hash.
type knownEntry struct {
	peers [knownPeers]peer.ID
	// sending marks the peers (by slot) that are known to hold it only
	// because a message telling them is on its way: the mark stays if
	// the message is written, and goes if it is not.
	sending  [knownPeers]bool
	n        int  // peers used, oldest first; the oldest goes when full
	rejected bool // its order failed this node's checks
	pushed   bool // its order came to this node by a push
	// pushedBy is the peer whose push brought its order first.
	pushedBy peer.ID
	// origin is the node its order entered the network at, as the first
	// peer to push or announce it said (zero until one did).
	origin    origin
	hasOrigin bool
	// announced is when a peer announced it while this node lacked it,
	// until a push of it comes (zero: not announced, or pushed since).
	announced time.Time
}

// knownTable remembers, for the hashes seen lately, which peers hold them
// (they announced them, sent them, or a message telling them of them was
// written to them) and which orders
// were rejected, so that no one is told of an order twice and no rejected
// order is fetched again on every announcement. It holds at most capacity
// hashes, forgetting the oldest first.
type knownTable struct {
	mu     sync.Mutex
	byHash map[common.Hash]*knownEntry
	ring   []common.Hash // insertion order, for forgetting
	next   int
	cap    int
}

func newKnownTable(capacity int) *knownTable {
	return &knownTable{byHash: make(map[common.Hash]*knownEntry), cap: capacity}
}

// entry returns h's entry, making it (and forgetting the oldest) if new.
// t.mu is held.
func (t *knownTable) entry(h common.Hash) *knownEntry {
	if e, ok := t.byHash[h]; ok {
		return e
	}
	if len(t.ring) < t.cap {
		t.ring = append(t.ring, h)
	} else {
		delete(t.byHash, t.ring[t.next])
		t.ring[t.next] = h
		t.next = (t.next + 1) % t.cap
	}
	e := new(knownEntry)
	t.byHash[h] = e
	return e
}

// add remembers that p holds each of hashes: it sent or announced them,
// or a message telling it of them was written.
func (t *knownTable) add(p peer.ID, hashes []common.Hash) {
	t.mark(p, hashes, false)
}

// sending remembers p as holding those of hashes it is not known to hold
// already, while a message that tells it of them is on its way, so that
// no other message tells it of them meantime; sent or unsent settles it.
func (t *knownTable) sending(p peer.ID, hashes []common.Hash) {
	t.mark(p, hashes, true)
}

// mark remembers p as holding hashes, only while a message is on its way
// (sending) or for good.
func (t *knownTable) mark(p peer.ID, hashes []common.Hash, sending bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		e := t.entry(h)
		if i := e.slot(p); i >= 0 {
			e.sending[i] = e.sending[i] && sending
			continue
		}
		if e.n == knownPeers {
			e.remove(0)
		}
		e.peers[e.n], e.sending[e.n] = p, sending
		e.n++
	}
}

// unsent forgets p as holding those of hashes it was remembered to hold
// only by a message that was not written after all (dropped, or its
// stream failed): nothing has shown that p holds them, and they are to be
// told to it again.
func (t *knownTable) unsent(p peer.ID, hashes []common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		e, ok := t.byHash[h]
		if !ok {
			continue
		}
		if i := e.slot(p); i >= 0 && e.sending[i] {
			e.remove(i)
		}
	}
}

// slot returns p's slot, or -1.
func (e *knownEntry) slot(p peer.ID) int {
	for i, q := range e.peers[:e.n] {
		if q == p {
			return i
		}
	}
	return -1
}

func (e *knownEntry) has(p peer.ID) bool {
	return e.slot(p) >= 0
}

// remove empties slot i, moving the newer ones down.
func (e *knownEntry) remove(i int) {
	copy(e.peers[i:e.n], e.peers[i+1:e.n])
	copy(e.sending[i:e.n], e.sending[i+1:e.n])
	e.n--
	e.peers[e.n], e.sending[e.n] = "", false
}

// heard reports whether some peer is known to hold h: the order came
// from a peer, or was announced by one, rather than from this node.
func (t *knownTable) heard(h common.Hash) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byHash[h]
	return ok && e.n > 0
}

// unknownTo returns the hashes not known to p.
func (t *knownTable) unknownTo(p peer.ID, hashes []common.Hash) []common.Hash {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []common.Hash
	for _, h := range hashes {
		e, ok := t.byHash[h]
		if ok && e.has(p) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// reject remembers that the orders of hashes failed this node's checks.
func (t *knownTable) reject(hashes []common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		t.entry(h).rejected = true
	}
}

// notRejected returns the hashes not remembered as rejected.
func (t *knownTable) notRejected(hashes []common.Hash) []common.Hash {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := hashes[:0:0]
	for _, h := range hashes {
		if e, ok := t.byHash[h]; ok && e.rejected {
			continue
		}
		out = append(out, h)
	}
	return out
}

// byPush remembers that the orders of hashes came to this node by p's
// push: a push of one of them after that is a duplicate along the tree.
func (t *knownTable) byPush(p peer.ID, hashes []common.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		if e := t.entry(h); !e.rejected && !e.pushed {
			e.pushed, e.pushedBy = true, p
		}
	}
}

// pushers returns the peers whose pushes brought the orders of hashes
// first, for those that came to this node by a push.
func (t *knownTable) pushers(hashes []common.Hash) []peer.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []peer.ID
	for _, h := range hashes {
		if e, ok := t.byHash[h]; ok && e.pushed && !slices.Contains(out, e.pushedBy) {
			out = append(out, e.pushedBy)
		}
	}
	return out
}

// announcedAt remembers when the hashes, which this node lacks, were first
// announced to it.
func (t *knownTable) announcedAt(hashes []common.Hash, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		if e := t.entry(h); e.announced.IsZero() && !e.pushed {
			e.announced = at
		}
	}
}

// pushLags returns, for each of hashes announced to this node before a
// push of it came, how long the push came after; each hash gives one lag.
func (t *knownTable) pushLags(hashes []common.Hash, now time.Time) []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lags []time.Duration
	for _, h := range hashes {
		if e, ok := t.byHash[h]; ok && !e.announced.IsZero() {
			lags = append(lags, now.Sub(e.announced))
			e.announced = time.Time{}
		}
	}
	return lags
}

// neverPushed reports whether no push of any of hashes came since they
// were announced to this node.
func (t *knownTable) neverPushed(hashes []common.Hash) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		if e, ok := t.byHash[h]; !ok || e.announced.IsZero() {
			return false
		}
	}
	return true
}

// notFromTree returns those of hashes whose orders did not come to this
// node by a push along the tree, while some peer is known to hold them:
// fetched after an announcement, relayed, or brought by a sync. (An order
// no peer holds is the node's own, and starts down the tree.)
func (t *knownTable) notFromTree(hashes []common.Hash) map[common.Hash]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[common.Hash]bool)
	for _, h := range hashes {
		if e, ok := t.byHash[h]; ok && e.n > 0 && !e.pushed {
			out[h] = true
		}
	}
	return out
}

// setOrigin remembers o as the origin of those of hashes that have none.
func (t *knownTable) setOrigin(hashes []common.Hash, o origin) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hashes {
		if e := t.entry(h); !e.hasOrigin {
			e.origin, e.hasOrigin = o, true
		}
	}
}

// originOf returns h's origin, or own for an order no peer said one of
// (the node's own, or one a sync brought).
func (t *knownTable) originOf(h common.Hash, own origin) origin {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byHash[h]; ok && e.hasOrigin {
		return e.origin
	}
	return own
}
