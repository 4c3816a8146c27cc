// Package meta is the metadata plumbing the subprotocols under
// subprotocols/ share: null metadata, the "orderfilter" field, order
// hashes written as hex, and a Request's or Response's Metadata as the type
// a subprotocol's parser makes. Only those subprotocols import it; a user
// reads their metadata types instead.
package meta

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
)

// IsNull reports whether raw metadata is absent or JSON null, which every
// subprotocol reads as a first request ("from the beginning, no filter").
func IsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// ParseFilter decodes a request's "orderfilter" field: absent or null is no
// filter (nil). The same bytes give the same compiled filter
// (orderfilter.Parse), so a sync's hundreds of requests compile it once.
func ParseFilter(raw json.RawMessage) (*orderfilter.Filter, error) {
	if IsNull(raw) {
		return nil, nil
	}
	return orderfilter.Parse(raw)
}

// ParseHash decodes an order hash written as "0x" and 64 hex digits (either
// case; the prefix may be left out). field names the input in errors.
func ParseHash(field, s string) (common.Hash, error) {
	digits := s
	if len(digits) >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		digits = digits[2:]
	}
	if len(digits) != 2*common.HashLength {
		return common.Hash{}, fmt.Errorf("%s %s: want 0x and %d hex digits, got %d digits", field, quoteShort(s), 2*common.HashLength, len(digits))
	}
	var h common.Hash
	if _, err := hex.Decode(h[:], []byte(digits)); err != nil {
		return common.Hash{}, fmt.Errorf("%s %s: %w", field, quoteShort(s), err)
	}
	return h, nil
}

// quoteShort quotes s for an error message, cut short: s comes from a peer.
func quoteShort(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

// As returns a Request's or Response's Metadata as a *T, the type a
// subprotocol's Parse…Metadata makes: a *T or T as it is, nil as the zero T
// (a first request), and raw JSON through parse. name prefixes the error
// for any other type.
func As[T any](name string, metadata any, parse func(json.RawMessage) (*T, error)) (*T, error) {
	switch md := metadata.(type) {
	case *T:
		if md != nil {
			return md, nil
		}
		return new(T), nil
	case T:
		return &md, nil
	case nil:
		return new(T), nil
	case json.RawMessage:
		return parse(md)
	default:
		return nil, fmt.Errorf("%s: metadata of type %T, want %T", name, metadata, new(T))
	}
}
