package ordersync

import (
	"encoding/json"
	"fmt"

	"github.com/ordersync/ordersync/zeroex"
)

// appendResponse appends the wire form of resp, as the subprotocol sub
// answered it, to dst: byte for byte what json.Marshal makes of the
// equivalent rawResponse, without building one (a response is up to
// hundreds of orders, each with a cached encoding).
func (s *Service) appendResponse(dst []byte, sub string, resp *Response) ([]byte, error) {
	// Encode the metadata first: if it fails, nothing has been written.
	metadata, err := json.Marshal(resp.Metadata)
	if err != nil {
		return dst, fmt.Errorf("ordersync: %s response metadata: %w", sub, err)
	}
	dst = append(dst, s.responsePrefix[sub]...)
	if resp.Orders == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, order := range resp.Orders {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendOrder(dst, order); err != nil {
				return dst, fmt.Errorf("ordersync: %s response order %d: %w", sub, i, err)
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"complete":`...)
	if resp.Complete {
		dst = append(dst, "true"...)
	} else {
		dst = append(dst, "false"...)
	}
	dst = append(dst, `,"metadata":`...)
	dst = append(dst, metadata...)
	return append(dst, '}'), nil
}

func appendOrder(dst []byte, order *zeroex.SignedOrder) ([]byte, error) {
	if order == nil {
		return append(dst, "null"...), nil
	}
	// AppendJSON copies the order's cached, compact encoding.
	return order.AppendJSON(dst)
}
