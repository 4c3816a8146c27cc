package news

import (
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The two ends of a link that both hold an order would each announce it
// to the other after the lazy delay, since neither knows the other holds
// it; the lazy hold let one end leave out what the other announced first
// only when that announcement came before its own left. So the ends take
// turns, by a rule both apply alike without a word between them: one end
// of each link is first, and announces as before; the other waits
// secondTurnWait longer, and by then the first's announcement (or a
// push) has shown it the peer holds the order, and it tells the peer
// nothing. An order only the second holds is still announced by it, that
// much later. The first end is the same for every order (not chosen per
// order), so that announcements cross a link in one direction: measured,
// in half as many messages as when each end was first for half the
// orders, each with its origins' headers, and fewer of them in a packet
// of their own.

// firstTurn reports whether self is the end of its link to p that
// announces first: the end with the lesser peer ID (as bytes).
func firstTurn(self, p peer.ID) bool {
	return self < p
}

// secondTurnWait is how much later than the first end the second end of
// a link announces: a lazy delay, the longest the first end's hashes
// wait in its batch after the second end's left theirs, and a lazy hold,
// the longest its announcement then waits for a write.
func (c config) secondTurnWait() time.Duration {
	return c.lazyDelay + c.lazyHold
}

// maxSecondTurn bounds the hashes waiting for their second turn; past it
// the oldest are dropped (the first ends' announcements and the syncs
// cover them).
const maxSecondTurn = 4 * MaxAnnounce

// turnQueue holds announced hashes until their second turn: batches in
// the order they were announced, each due wait after it. Only the
// announcement loop uses it.
type turnQueue struct {
	wait    time.Duration
	batches []dueHashes
	count   int // hashes in batches
	timer   *time.Timer
}

// dueHashes is a batch of hashes and when its second turn comes.
type dueHashes struct {
	due    time.Time
	hashes []common.Hash
}

func newTurnQueue(wait time.Duration) *turnQueue {
	q := &turnQueue{wait: wait, timer: time.NewTimer(time.Hour)}
	q.timer.Stop()
	return q
}

// add queues hashes, announced in the first turn at now, for their second
// turn, and returns how many older hashes it dropped to make room.
func (q *turnQueue) add(now time.Time, hashes []common.Hash) (dropped int) {
	if len(hashes) == 0 {
		return 0
	}
	q.batches = append(q.batches, dueHashes{due: now.Add(q.wait), hashes: hashes})
	q.count += len(hashes)
	for q.count > maxSecondTurn {
		oldest := &q.batches[0]
		cut := min(len(oldest.hashes), q.count-maxSecondTurn)
		oldest.hashes = oldest.hashes[cut:]
		q.count -= cut
		dropped += cut
		if len(oldest.hashes) == 0 {
			q.batches = q.batches[1:]
		}
	}
	if len(q.batches) == 1 || dropped > 0 {
		q.timer.Reset(max(time.Until(q.batches[0].due), 0))
	}
	return dropped
}

// takeDue returns the hashes whose second turn has come by now, and sets
// the timer for the next.
func (q *turnQueue) takeDue(now time.Time) []common.Hash {
	var out []common.Hash
	for len(q.batches) > 0 && !q.batches[0].due.After(now) {
		out = append(out, q.batches[0].hashes...)
		q.count -= len(q.batches[0].hashes)
		q.batches = q.batches[1:]
	}
	if len(q.batches) > 0 {
		q.timer.Reset(q.batches[0].due.Sub(now))
	}
	return out
}

func (q *turnQueue) stop() { q.timer.Stop() }

// turnOf returns hashes when this node announces to p in the turn asked
// for (first or second), and nothing otherwise.
func (n *News) turnOf(p peer.ID, hashes []common.Hash, first bool) []common.Hash {
	if firstTurn(n.node.ID(), p) != first {
		return nil
	}
	return hashes
}
