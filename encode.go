package ordersync

import (
	"encoding/json"
	"fmt"

	"github.com/ordersync/ordersync/zeroex"
)

// responseChunk is about how much of a response a provider encodes before
// writing it: a page of hundreds of orders then never sits whole in memory,
// however slowly the requester reads.
const responseChunk = 64 << 10

// encodeResponse encodes resp, as the subprotocol sub answered it, byte
// for byte what json.Marshal makes of the equivalent rawResponse, without
// building one (a response is up to hundreds of orders, each with a cached
// encoding). It appends to buf and, each time buf holds responseChunk bytes
// or more, hands them to flush, which returns the buffer to go on with; it
// returns the last piece, unflushed. Nothing is flushed before the
// metadata has been encoded, so a subprotocol's bad metadata leaves the
// stream untouched.
func (s *Service) encodeResponse(buf []byte, flush func([]byte) ([]byte, error), sub string, resp *Response) ([]byte, error) {
	metadata, err := json.Marshal(resp.Metadata)
	if err != nil {
		return buf, fmt.Errorf("ordersync: %s response metadata: %w", sub, err)
	}
	buf = append(buf, s.responsePrefix[sub]...)
	if resp.Orders == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		for i, order := range resp.Orders {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendOrder(buf, order); err != nil {
				return buf, fmt.Errorf("ordersync: %s response order %d: %w", sub, i, err)
			}
			if len(buf) >= responseChunk {
				if buf, err = flush(buf); err != nil {
					return buf, err
				}
			}
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"complete":`...)
	if resp.Complete {
		buf = append(buf, "true"...)
	} else {
		buf = append(buf, "false"...)
	}
	buf = append(buf, `,"metadata":`...)
	buf = append(buf, metadata...)
	return append(buf, '}'), nil
}

// appendResponse appends the whole encoding of resp to dst.
func (s *Service) appendResponse(dst []byte, sub string, resp *Response) ([]byte, error) {
	keep := func(b []byte) ([]byte, error) { return b, nil }
	return s.encodeResponse(dst, keep, sub, resp)
}

func appendOrder(dst []byte, order *zeroex.SignedOrder) ([]byte, error) {
	if order == nil {
		return append(dst, "null"...), nil
	}
	// AppendJSON copies the order's cached, compact encoding.
	return order.AppendJSON(dst)
}
