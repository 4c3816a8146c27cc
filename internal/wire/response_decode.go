package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ordersync/ordersync/internal/jsonlex"
	"github.com/ordersync/ordersync/internal/orderprefix"
	"github.com/ordersync/ordersync/zeroex"
)

// DecodeResponse decodes a response message into raw with the result of
// json.Unmarshal, in one pass over its orders: json.Unmarshal would first
// check the whole message, then skip over each order to find its end before
// the order decodes itself, three passes where one does (each order decodes
// itself where it lies, with zeroex's prefix decoder, which
// internal/orderprefix hands over). Each order decodes
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

// orders decodes the orders array, each order where it lies: zeroex reads
// it and says where it ended, so no byte of an order is scanned twice.
func (c *cursor) orders(out *[]*zeroex.SignedOrder) error {
	if c.Literal("null") {
		*out = nil
		return nil
	}
	if c.Peek() != '[' {
		return fmt.Errorf("response: \"orders\": want an array at offset %d", c.Pos)
	}
	c.Pos++
	c.SkipSpace()
	if c.Peek() == ']' {
		c.Pos++
		*out = make([]*zeroex.SignedOrder, 0)
		return nil
	}
	// A page is hundreds of orders; the bound keeps a short array's slice
	// short and a hostile one's from growing past it.
	orders := make([]*zeroex.SignedOrder, 0, min(c.maxOrders, initialOrdersCap))
	for i := 0; ; i++ {
		if i == c.maxOrders {
			return fmt.Errorf("response: %w: more than %d", ErrTooManyOrders, c.maxOrders)
		}
		c.SkipSpace()
		switch {
		case c.Literal("null"):
			orders = append(orders, nil)
		case c.Peek() == '{':
			o := new(zeroex.SignedOrder)
			n, err := orderprefix.Decode(o, c.Data[c.Pos:])
			if err != nil {
				return fmt.Errorf("response: order %d: %w", i, err)
			}
			c.Pos += n
			orders = append(orders, o)
		default:
			// Not an object: what json.Unmarshal would make of it is an
			// error either way; say which, as the order decoder does.
			var o zeroex.SignedOrder
			val, err := c.Value()
			if err == nil {
				err = o.UnmarshalJSON(val)
			}
			if err == nil {
				err = errors.New("not an order")
			}
			return fmt.Errorf("response: order %d: %w", i, err)
		}
		c.SkipSpace()
		switch c.Next() {
		case ',':
			continue
		case ']':
			*out = orders
			return nil
		default:
			return fmt.Errorf("response: want ',' or ']' after order %d at offset %d", i, c.Pos-1)
		}
	}
}

// initialOrdersCap is the capacity an orders array starts with.
const initialOrdersCap = 512

// ErrTooManyOrders is DecodeResponse's error for a response with more
// orders than it takes.
var ErrTooManyOrders = errors.New("too many orders")

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
