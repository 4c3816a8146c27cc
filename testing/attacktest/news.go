package attacktest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
)

// The kinds of message of the news protocol (package subprotocols/news,
// docs/protocol.md "News"), written by hand here as a hostile peer would.
const (
	NewsAnnounce byte = 1
	NewsGet      byte = 2
	NewsOrders   byte = 3
	NewsPush     byte = 4
	NewsPrune    byte = 5
	NewsGraft    byte = 6
	NewsRelay    byte = 7
)

// NewsOriginLen is the length of the origin tag that begins the bodies of
// announcements, pushes, relays, prunes and grafts.
const NewsOriginLen = 8

// NewsOrigin is an origin tag: any 8 bytes a peer chooses.
type NewsOrigin [NewsOriginLen]byte

// NewsAnnouncement is an announcement of hashes of origin o.
func NewsAnnouncement(o NewsOrigin, hashes []common.Hash) []byte {
	body := append([]byte(nil), o[:]...)
	for _, h := range hashes {
		body = append(body, h[:]...)
	}
	return NewsMessage(NewsAnnounce, body)
}

// NewsPushOf is a push or relay (kind) of orders of origin o, carrying the
// given order JSONs.
func NewsPushOf(kind byte, o NewsOrigin, orders ...[]byte) []byte {
	return NewsMessage(kind, append(o[:], ordersBody(orders)...))
}

// NewsTree is a prune or graft (kind) of origin o's tree.
func NewsTree(kind byte, o NewsOrigin) []byte {
	return NewsMessage(kind, o[:])
}

// NewsMessage is a news message of kind with body: the kind byte, the
// body's length as an unsigned varint, the body.
func NewsMessage(kind byte, body []byte) []byte {
	msg := append([]byte{kind}, binary.AppendUvarint(nil, uint64(len(body)))...)
	return append(msg, body...)
}

// NewsHashes is a news message of kind (a get) naming hashes.
func NewsHashes(kind byte, hashes []common.Hash) []byte {
	var body []byte
	for _, h := range hashes {
		body = append(body, h[:]...)
	}
	return NewsMessage(kind, body)
}

// NewsOrdersMessage is an orders message carrying the given order JSONs.
func NewsOrdersMessage(orders ...[]byte) []byte {
	return NewsOrdersOf(NewsOrders, orders...)
}

// NewsOrdersOf is a message of kind carrying the given order JSONs alone
// (an orders message; a push without its origin).
func NewsOrdersOf(kind byte, orders ...[]byte) []byte {
	return NewsMessage(kind, ordersBody(orders))
}

// ordersBody is the order JSONs, each after its length as a varint.
func ordersBody(orders [][]byte) []byte {
	var body []byte
	for _, o := range orders {
		body = binary.AppendUvarint(body, uint64(len(o)))
		body = append(body, o...)
	}
	return body
}

// ReadNewsMessage reads one news message from r, of a body of at most max
// bytes, and returns its kind and body.
func ReadNewsMessage(r *bufio.Reader, max int) (kind byte, body []byte, err error) {
	if kind, err = r.ReadByte(); err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, err
	}
	if n > uint64(max) {
		return 0, nil, fmt.Errorf("news message of %d bytes, more than %d", n, max)
	}
	body = make([]byte, n)
	_, err = io.ReadFull(r, body)
	return kind, body, err
}

// NewsGetHashes splits a get's body into its hashes.
func NewsGetHashes(body []byte) []common.Hash {
	out := make([]common.Hash, len(body)/common.HashLength)
	for i := range out {
		copy(out[i][:], body[i*common.HashLength:])
	}
	return out
}
