package news

import (
	"crypto/sha256"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Plumtree keeps one tree per origin, the node where an order entered the
// network: a duplicate push of one origin's order then prunes a link of
// that origin's tree only. With one tree shared by every origin, orders of
// two origins crossing a cycle at once prune two different links of it,
// cut it, and the grafts that mend it make the next cycle (the tree never
// settles, and a quarter of the orders came by announcement and get).

// originLen is the length of an origin tag on the wire.
const originLen = 8

// origin tags the node where orders entered the network: the first bytes
// of the SHA-256 of its peer ID. It is a hint, never checked: a peer that
// lies about it only chooses which of its own links' trees it prunes.
type origin [originLen]byte

// originOf is p's origin tag.
func originOf(p peer.ID) origin {
	sum := sha256.Sum256([]byte(p))
	var o origin
	copy(o[:], sum[:])
	return o
}

// maxOrigins bounds the origins whose trees a News keeps; past it the
// least lately pruned origin is forgotten, and its links are eager again
// (pushes of its orders prune them anew).
const maxOrigins = 256

// lazyTable holds, per origin, the neighbours pruned from its tree: they
// are announced that origin's orders, not pushed them. An origin not in
// the table is eager on every link. The News's mu guards it.
type lazyTable struct {
	byOrigin map[origin]map[peer.ID]bool
	order    []origin // least lately set first
}

func newLazyTable() lazyTable {
	return lazyTable{byOrigin: make(map[origin]map[peer.ID]bool)}
}

// is reports whether p is pruned from o's tree.
func (t *lazyTable) is(o origin, p peer.ID) bool {
	return t.byOrigin[o][p]
}

// set prunes p from o's tree (lazy) or grafts it back (not lazy).
func (t *lazyTable) set(o origin, p peer.ID, lazy bool) {
	peers, ok := t.byOrigin[o]
	if !lazy {
		if ok {
			delete(peers, p)
		}
		return
	}
	if i := slices.Index(t.order, o); i >= 0 {
		t.order = append(slices.Delete(t.order, i, i+1), o)
	} else {
		if len(t.order) >= maxOrigins {
			delete(t.byOrigin, t.order[0])
			t.order = slices.Delete(t.order, 0, 1)
		}
		t.order = append(t.order, o)
	}
	if !ok {
		peers = make(map[peer.ID]bool)
		t.byOrigin[o] = peers
	}
	peers[p] = true
}

// keepOnly forgets the peers not in current, in every origin's tree: a
// neighbour that left is eager again when it comes back.
func (t *lazyTable) keepOnly(current map[peer.ID]bool) {
	for _, peers := range t.byOrigin {
		for p := range peers {
			if !current[p] {
				delete(peers, p)
			}
		}
	}
}
