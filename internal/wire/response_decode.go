package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ordersync/ordersync/internal/jsonlex"
	"github.com/ordersync/ordersync/internal/parallel"
	"github.com/ordersync/ordersync/zeroex"
)

// DecodeResponse decodes a response message into raw with the result of
// json.Unmarshal, in one pass over its orders: json.Unmarshal would first
// check the whole message, then skip over each order to find its end before
// the order decodes itself, three passes where one does. Each order decodes
// itself strictly (zeroex); every other value is checked as json.Unmarshal
// would check it. FuzzDecodeResponse holds the two to the same results.
//
// A response with more than maxOrders orders fails with ErrTooManyOrders as
// soon as the scan gets past that many: it never makes more entries. Its
// errors say what is wrong without saying that the message is invalid: the
// caller wraps them in ordersync.ErrInvalidMessage.
func DecodeResponse(msg []byte, raw *Response, maxOrders int) error {
	c := cursor{Lexer: jsonlex.Lexer{Data: msg}, maxOrders: maxOrders}
	if err := c.Expect('{'); err != nil {
		return err
	}
	c.SkipSpace()
	if c.Peek() == '}' {
		c.Pos++
		return c.End()
	}
	for {
		c.SkipSpace()
		keyJSON, err := c.StringToken()
		if err != nil {
			return fmt.Errorf("response: key: %w", err)
		}
		key, err := unquote(keyJSON)
		if err != nil {
			return fmt.Errorf("response: key %s: %w", keyJSON, err)
		}
		if err := c.Expect(':'); err != nil {
			return err
		}
		c.SkipSpace()
		if err := c.field(key, raw); err != nil {
			return err
		}
		c.SkipSpace()
		switch c.Next() {
		case ',':
			continue
		case '}':
			return c.End()
		default:
			return fmt.Errorf("response: want ',' or '}' after %q at offset %d", key, c.Pos-1)
		}
	}
}

// cursor walks a response, finding where its values end without decoding
// them; DecodeResponse decodes or checks each value.
type cursor struct {
	jsonlex.Lexer
	// maxOrders bounds the orders DecodeResponse takes from one array.
	maxOrders int
}

// field decodes the value of one key, matched as json.Unmarshal matches
// struct fields: case-insensitively, the last of duplicates winning.
func (c *cursor) field(key string, raw *Response) error {
	switch {
	case strings.EqualFold(key, "orders"):
		return c.orders(&raw.Orders)
	}
	val, err := c.Value()
	if err != nil {
		return fmt.Errorf("response: %q: %w", key, err)
	}
	switch {
	case strings.EqualFold(key, "type"):
		err = decodeString(val, &raw.Type)
	case strings.EqualFold(key, "subprotocol"):
		err = decodeString(val, &raw.Subprotocol)
	case strings.EqualFold(key, "complete"):
		switch string(val) {
		case "true":
			raw.Complete = true
		case "false":
			raw.Complete = false
		case "null": // leaves the field as it is, like json.Unmarshal
		default:
			err = fmt.Errorf("want a boolean, got %.20q", val)
		}
	case strings.EqualFold(key, "metadata"):
		if !json.Valid(val) {
			err = fmt.Errorf("not valid JSON")
		} else {
			raw.Metadata = bytes.Clone(val) // msg is the reader's buffer
		}
	default:
		if !json.Valid(val) {
			err = fmt.Errorf("not valid JSON")
		}
	}
	if err != nil {
		return fmt.Errorf("response: %q: %w", key, err)
	}
	return nil
}

// orders decodes the orders array. It finds each order's bytes in one pass
// over the array, then each order decodes its own bytes, on all cores for a
// page of many orders (see decodeOrders).
func (c *cursor) orders(out *[]*zeroex.SignedOrder) error {
	if c.Literal("null") {
		*out = nil
		return nil
	}
	if c.Peek() != '[' {
		return fmt.Errorf("response: \"orders\": want an array at offset %d", c.Pos)
	}
	c.Pos++
	var vals [][]byte // an order's JSON, nil for null
	c.SkipSpace()
	if c.Peek() == ']' {
		c.Pos++
		*out = make([]*zeroex.SignedOrder, 0)
		return nil
	}
	for i := 0; ; i++ {
		if i == c.maxOrders {
			return fmt.Errorf("response: %w: more than %d", ErrTooManyOrders, c.maxOrders)
		}
		c.SkipSpace()
		if c.Literal("null") {
			vals = append(vals, nil)
		} else {
			val, err := c.Value()
			if err != nil {
				return fmt.Errorf("response: order %d: %w", i, err)
			}
			vals = append(vals, val)
		}
		c.SkipSpace()
		switch c.Next() {
		case ',':
			continue
		case ']':
			orders, err := decodeOrders(vals)
			if err != nil {
				return err
			}
			*out = orders
			return nil
		default:
			return fmt.Errorf("response: want ',' or ']' after order %d at offset %d", i, c.Pos-1)
		}
	}
}

// ErrTooManyOrders is DecodeResponse's error for a response with more
// orders than it takes.
var ErrTooManyOrders = errors.New("too many orders")

// minOrdersPerDecoder keeps short arrays on one goroutine, where starting
// another would cost more than it saves.
const minOrdersPerDecoder = 32

// decodeOrders decodes vals (nil for a null order) as signed orders. The
// requester reads a page ahead while it verifies the one before, so a
// decode often runs when the cores come free between pages: splitting it
// across them shortens that gap. On error it reports the first bad order,
// as a decode in order would.
func decodeOrders(vals [][]byte) ([]*zeroex.SignedOrder, error) {
	orders := make([]*zeroex.SignedOrder, len(vals))
	errs := make([]error, len(vals))
	parallel.For(len(vals), minOrdersPerDecoder, func(i int) {
		if vals[i] == nil {
			return
		}
		o := new(zeroex.SignedOrder)
		if errs[i] = o.UnmarshalJSON(vals[i]); errs[i] == nil {
			orders[i] = o
		}
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("response: order %d: %w", i, err)
		}
	}
	return orders, nil
}

// decodeString decodes a JSON string, or leaves dst as it is for null.
func decodeString(val []byte, dst *string) error {
	if string(val) == "null" {
		return nil
	}
	s, err := unquote(val)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

// unquote decodes a JSON string token; plain ones without copying twice.
func unquote(tok []byte) (string, error) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", fmt.Errorf("want a string, got %.20q", tok)
	}
	plain := true
	for _, b := range tok[1 : len(tok)-1] {
		if b == '\\' || b < 0x20 || b >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(tok[1 : len(tok)-1]), nil
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", err
	}
	return s, nil
}
