package wire

import (
	"encoding/json"
	"fmt"

	"github.com/ordersync/ordersync/zeroex"
)

// ResponseChunk is about how much of a response a provider encodes before
// writing it: a page of hundreds of orders then never sits whole in memory,
// however slowly the requester reads.
const ResponseChunk = 64 << 10

// ResponseEncoder encodes a provider's responses. It is safe for concurrent
// use.
type ResponseEncoder struct {
	// prefix[name] is `{"type":"Response","subprotocol":<name>,"orders":`,
	// encoded once per subprotocol.
	prefix map[string][]byte
	// UncachedOrders makes the encoder write orders without keeping their
	// encodings on them (zeroex's AppendJSONUncached instead of
	// AppendJSON): a kilobyte less held per order served, for encoding
	// every order of every response anew. Set it before the first Encode.
	UncachedOrders bool
}

// NewResponseEncoder makes the encoder of the responses of the subprotocols
// called names.
func NewResponseEncoder(names []string) (*ResponseEncoder, error) {
	e := &ResponseEncoder{prefix: make(map[string][]byte, len(names))}
	for _, name := range names {
		quoted, err := json.Marshal(name)
		if err != nil {
			return nil, fmt.Errorf("ordersync: subprotocol name %q: %v", name, err)
		}
		prefix := []byte(`{"type":"Response","subprotocol":`)
		prefix = append(prefix, quoted...)
		e.prefix[name] = append(prefix, `,"orders":`...)
	}
	return e, nil
}

// Encode encodes the response of subprotocol sub with the given orders,
// completeness and metadata, byte for byte what json.Marshal makes of the
// equivalent Response, without building one (a response is up to hundreds
// of orders, each with a cached encoding). It appends to buf and, each time
// buf holds ResponseChunk bytes or more, hands them to flush, which returns
// the buffer to go on with; it returns the last piece, unflushed. Nothing
// is flushed before the metadata has been encoded, so a subprotocol's bad
// metadata leaves the stream untouched.
func (e *ResponseEncoder) Encode(buf []byte, flush func([]byte) ([]byte, error), sub string, orders []*zeroex.SignedOrder, complete bool, metadata any) ([]byte, error) {
	encodedMetadata, err := json.Marshal(metadata)
	if err != nil {
		return buf, fmt.Errorf("ordersync: %s response metadata: %w", sub, err)
	}
	buf = append(buf, e.prefix[sub]...)
	if orders == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		for i, order := range orders {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = e.appendOrder(buf, order); err != nil {
				return buf, fmt.Errorf("ordersync: %s response order %d: %w", sub, i, err)
			}
			if len(buf) >= ResponseChunk {
				if buf, err = flush(buf); err != nil {
					return buf, err
				}
			}
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"complete":`...)
	if complete {
		buf = append(buf, "true"...)
	} else {
		buf = append(buf, "false"...)
	}
	buf = append(buf, `,"metadata":`...)
	buf = append(buf, encodedMetadata...)
	return append(buf, '}'), nil
}

// Append appends the whole encoding of a response to dst.
func (e *ResponseEncoder) Append(dst []byte, sub string, orders []*zeroex.SignedOrder, complete bool, metadata any) ([]byte, error) {
	keep := func(b []byte) ([]byte, error) { return b, nil }
	return e.Encode(dst, keep, sub, orders, complete, metadata)
}

func (e *ResponseEncoder) appendOrder(dst []byte, order *zeroex.SignedOrder) ([]byte, error) {
	if order == nil {
		return append(dst, "null"...), nil
	}
	if e.UncachedOrders {
		return order.AppendJSONUncached(dst)
	}
	// AppendJSON copies the order's cached, compact encoding.
	return order.AppendJSON(dst)
}
