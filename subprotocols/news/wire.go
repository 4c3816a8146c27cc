package news

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ordersync/ordersync/zeroex"
)

// The messages of a news stream. The peer that opened the stream sends
// pushes, announcements, gets, prunes and grafts; the other answers each
// get, in order, with one orders message. Each message is a kind byte, the
// body's length as an unsigned varint, and the body. The bodies of
// announcements, pushes, relays, prunes and grafts begin with an origin
// tag (originLen bytes): the tree they are about (origin.go).
const (
	// kindAnnounce: the opener holds new orders of the origin with these
	// hashes (32 bytes each, 1 to MaxAnnounce of them). No answer.
	kindAnnounce byte = 1
	// kindGet: the opener asks for the orders with these hashes (32 bytes
	// each, 1 to MaxGet of them).
	kindGet byte = 2
	// kindOrders answers a get: the orders it asked for that the answerer
	// holds and serves, each as its JSON (a varint length, then the bytes),
	// at most as many as the get named.
	kindOrders byte = 3
	// kindPush: the opener sends new orders unasked, along a link the
	// receiver has not pruned from the origin's tree (the origin, then
	// the same body as kindOrders). No answer.
	kindPush byte = 4
	// kindPrune: the opener got orders of the origin it held already
	// over this link; the receiver stops pushing it that origin's orders
	// and announces them instead. The body is the origin alone.
	kindPrune byte = 5
	// kindGraft: the opener had to get an order it was announced over
	// this link; the receiver pushes it that origin's orders again. The
	// body is the origin alone.
	kindGraft byte = 6
	// kindRelay: as kindPush, of orders the opener did not get by a push
	// (it fetched them after an announcement, or a sync brought them): a
	// duplicate of one is no cycle of eager links, and prunes nothing.
	kindRelay byte = 7
)

// The protocol's bounds.
const (
	// MaxAnnounce is how many hashes one announcement may carry.
	MaxAnnounce = 1024
	// MaxGet is how many hashes one get may name.
	MaxGet = 256
	// MaxOrderBytes bounds one order's JSON in an orders message (0x
	// Mesh's own bound on an order's size was 16 000 bytes).
	MaxOrderBytes = 16 << 10
	// maxOrdersBody bounds an orders message: MaxGet orders of the most
	// bytes, with their lengths.
	maxOrdersBody = MaxGet * (MaxOrderBytes + binary.MaxVarintLen32)
)

// Errors of a broken message. A peer that sends one has its stream reset
// and its score lowered.
var (
	ErrBadMessage = errors.New("news: bad message")
	ErrTooLarge   = errors.New("news: message too large")
)

// message is one decoded message.
type message struct {
	kind   byte
	origin origin                // announce, push, relay, prune, graft
	hashes []common.Hash         // announce, get
	orders []*zeroex.SignedOrder // orders, push, relay
}

// hasOrigin reports whether messages of kind begin with an origin tag.
func hasOrigin(kind byte) bool {
	switch kind {
	case kindAnnounce, kindPush, kindRelay, kindPrune, kindGraft:
		return true
	}
	return false
}

// maxBody is the largest body a message of kind may have.
func maxBody(kind byte) (int, error) {
	switch kind {
	case kindAnnounce:
		return originLen + MaxAnnounce*common.HashLength, nil
	case kindGet:
		return MaxGet * common.HashLength, nil
	case kindOrders:
		return maxOrdersBody, nil
	case kindPush, kindRelay:
		return originLen + maxOrdersBody, nil
	case kindPrune, kindGraft:
		return originLen, nil
	}
	return 0, fmt.Errorf("%w: unknown kind %d", ErrBadMessage, kind)
}

// memoryScope is the part of a stream's resource-manager scope that
// reading a message uses.
type memoryScope interface {
	ReserveMemory(size int, prio uint8) error
	ReleaseMemory(size int)
}

// readMessage reads one message of a kind in allowed from r, holding it
// to its bounds before reading its body, whose memory it reserves in scope
// (nil: none) while it decodes it.
func readMessage(r *bufio.Reader, scope memoryScope, allowed ...byte) (message, error) {
	kind, err := r.ReadByte()
	if err != nil {
		return message{}, err
	}
	ok := false
	for _, k := range allowed {
		ok = ok || k == kind
	}
	if !ok {
		return message{}, fmt.Errorf("%w: kind %d not allowed here", ErrBadMessage, kind)
	}
	limit, err := maxBody(kind)
	if err != nil {
		return message{}, err
	}
	n, err := readLength(r)
	if err != nil {
		return message{}, err
	}
	if n > uint64(limit) {
		return message{}, fmt.Errorf("%w: %d bytes of kind %d, at most %d", ErrTooLarge, n, kind, limit)
	}
	if scope != nil {
		if err := scope.ReserveMemory(int(n), network.ReservationPriorityAlways); err != nil {
			return message{}, fmt.Errorf("news: %d bytes of message: %w", n, err)
		}
		defer scope.ReleaseMemory(int(n))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return message{}, unexpectedEOF(err)
	}
	return decodeBody(kind, body)
}

// maxLengthBytes is the most bytes a body's length may take: 4 varint
// bytes reach 256 MiB, far beyond every bound.
const maxLengthBytes = 4

// readLength reads a body's length, an unsigned varint of at most
// maxLengthBytes bytes.
func readLength(r *bufio.Reader) (uint64, error) {
	var n uint64
	for i := range maxLengthBytes {
		b, err := r.ReadByte()
		if err != nil {
			return 0, unexpectedEOF(err)
		}
		n |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: a length of more than %d bytes", ErrTooLarge, maxLengthBytes)
}

// isBroken reports whether err is a broken message, which the peer that
// sent it is scored for (a stream cut off or reset is not).
func isBroken(err error) bool {
	return errors.Is(err, ErrBadMessage) || errors.Is(err, ErrTooLarge)
}

// unexpectedEOF turns a stream that ends inside a message into
// io.ErrUnexpectedEOF: only an end between messages is a clean one.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// decodeBody decodes a message's body, held to its bounds already.
func decodeBody(kind byte, body []byte) (message, error) {
	m := message{kind: kind}
	if hasOrigin(kind) {
		if len(body) < originLen {
			return message{}, fmt.Errorf("%w: %d bytes, no origin", ErrBadMessage, len(body))
		}
		copy(m.origin[:], body)
		body = body[originLen:]
	}
	switch kind {
	case kindOrders, kindPush, kindRelay:
		orders, err := decodeOrders(body)
		m.orders = orders
		if err == nil && kind != kindOrders && len(orders) == 0 {
			err = fmt.Errorf("%w: a push of no orders", ErrBadMessage)
		}
		return m, err
	case kindPrune, kindGraft:
		return m, nil // maxBody held the body to the origin
	}
	if len(body) == 0 || len(body)%common.HashLength != 0 {
		return message{}, fmt.Errorf("%w: %d bytes of hashes", ErrBadMessage, len(body))
	}
	m.hashes = make([]common.Hash, len(body)/common.HashLength)
	for i := range m.hashes {
		copy(m.hashes[i][:], body[i*common.HashLength:])
	}
	return m, nil
}

// decodeOrders decodes an orders body. An order that is not valid JSON of
// an order fails the whole message: the answerer encoded it.
func decodeOrders(body []byte) ([]*zeroex.SignedOrder, error) {
	var orders []*zeroex.SignedOrder
	for len(body) > 0 {
		n, size := binary.Uvarint(body)
		if size <= 0 {
			return nil, fmt.Errorf("%w: broken order length", ErrBadMessage)
		}
		body = body[size:]
		if n == 0 || n > MaxOrderBytes || n > uint64(len(body)) {
			return nil, fmt.Errorf("%w: order of %d bytes (%d left, at most %d)", ErrBadMessage, n, len(body), MaxOrderBytes)
		}
		if len(orders) == MaxGet {
			return nil, fmt.Errorf("%w: more than %d orders", ErrBadMessage, MaxGet)
		}
		o := new(zeroex.SignedOrder)
		if err := o.UnmarshalJSON(body[:n]); err != nil {
			return nil, fmt.Errorf("%w: order %d: %v", ErrBadMessage, len(orders), err)
		}
		orders = append(orders, o)
		body = body[n:]
	}
	return orders, nil
}

// appendHashes appends a get of hashes to b.
func appendHashes(b []byte, kind byte, hashes []common.Hash) []byte {
	return appendHashesOf(b, kind, nil, hashes)
}

// appendAnnounce appends an announcement of hashes, orders of origin o,
// to b.
func appendAnnounce(b []byte, o origin, hashes []common.Hash) []byte {
	return appendHashesOf(b, kindAnnounce, o[:], hashes)
}

// appendHashesOf appends a message of kind carrying prefix (an origin
// tag, or nothing) and hashes to b.
func appendHashesOf(b []byte, kind byte, prefix []byte, hashes []common.Hash) []byte {
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(prefix)+len(hashes)*common.HashLength))
	b = append(b, prefix...)
	for i := range hashes {
		b = append(b, hashes[i][:]...)
	}
	return b
}

// appendOrders appends an orders message of the encoded orders to b.
// Orders larger than MaxOrderBytes are left out (no peer could take them),
// as are those past maxOrdersBody.
func appendOrders(b []byte, encoded [][]byte) []byte {
	return appendOrdersOf(b, kindOrders, nil, encoded)
}

// appendPush appends a push (kindPush or kindRelay) of the encoded
// orders, of origin o, to b, within appendOrders's bounds.
func appendPush(b []byte, kind byte, o origin, encoded [][]byte) []byte {
	return appendOrdersOf(b, kind, o[:], encoded)
}

// appendOriginMessage appends a prune or graft of origin o's tree to b.
func appendOriginMessage(b []byte, kind byte, o origin) []byte {
	b = append(b, kind, originLen)
	return append(b, o[:]...)
}

// appendOrdersOf appends a message of kind carrying prefix (an origin
// tag, or nothing) and the encoded orders to b, within appendOrders's
// bounds.
func appendOrdersOf(b []byte, kind byte, prefix []byte, encoded [][]byte) []byte {
	size := 0
	var kept [][]byte
	for _, e := range encoded {
		add := len(e) + binary.MaxVarintLen32
		if len(e) == 0 || len(e) > MaxOrderBytes || size+add > maxOrdersBody || len(kept) == MaxGet {
			continue
		}
		size += add
		kept = append(kept, e)
	}
	body := 0
	for _, e := range kept {
		body += uvarintLen(uint64(len(e))) + len(e)
	}
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(prefix)+body))
	b = append(b, prefix...)
	for _, e := range kept {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

// uvarintLen is the length of x as an unsigned varint.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
