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
	c := cursor{Lexer: jsonlex.Lexer{Data: msg}, end: true, maxOrders: maxOrders}
	return c.response(raw)
}

// Source yields a message in windows, as it arrives (framing.Reader's
// More): each call returns the last keep bytes of the window it returned
// before, followed by more of the message, and whether the window ends the
// message. Unless it ends the message, a window must hold at least one new
// byte; holding at least keep new ones keeps a long value from being
// scanned more than about twice.
type Source func(keep int) (window []byte, end bool, err error)

// DecodeResponseFrom decodes the response src yields as DecodeResponse
// decodes a whole one, consuming each window before it asks for the next:
// the message is never in memory whole, only its decoded orders and a
// window. An order that straddles two windows is decoded again, whole,
// from the next.
//
// An error of src is returned as it is and wins over a decoding error:
// after a decoding error the rest of the message is read and dropped, so
// that a message that is also too large or malformed fails as one (the
// framing's error), as it did when it was read whole before it was
// decoded.
func DecodeResponseFrom(src Source, raw *Response, maxOrders int) error {
	c := cursor{src: src, maxOrders: maxOrders}
	c.fill(0)
	err := c.response(raw)
	if c.srcErr != nil {
		return c.srcErr
	}
	if err == nil {
		return nil
	}
	for end := c.end; !end; {
		window, more, srcErr := src(0)
		if srcErr != nil {
			return srcErr
		}
		if end = more; len(window) == 0 && !end {
			break // a source that gives nothing new: the error stands
		}
	}
	return err
}

// cursor walks a response, finding where its values end without decoding
// them; DecodeResponse decodes or checks each value. Its Data is the
// window of the message in hand; the lexer's methods stop at the window's
// end, so the cursor's own (lower-case) ones ask the source for more
// first, where a value may go on past it.
type cursor struct {
	jsonlex.Lexer
	// maxOrders bounds the orders DecodeResponse takes from one array.
	maxOrders int
	src       Source
	end       bool  // Data ends the message
	base      int   // bytes of the message before Data, for error offsets
	srcErr    error // the source's error, which ended the message
}

// fill replaces the window with the next one, which keeps Data[from:].
func (c *cursor) fill(from int) {
	if c.end {
		return
	}
	keep := len(c.Data) - from
	window, end, err := c.src(keep)
	if err == nil && !end && len(window) <= keep {
		err = errors.New("wire: the message's source returned nothing new")
	}
	if err != nil {
		// Nothing more comes: the decoder fails at the window's start,
		// and the source's error is the one returned.
		c.srcErr, c.end = err, true
		c.Data, c.Pos = nil, 0
		return
	}
	c.base += from
	c.Pos -= from
	c.Data, c.end = window, end
}

// offset is the position in the whole message.
func (c *cursor) offset() int { return c.base + c.Pos }

// ensure makes the window hold n bytes from the position, or the rest of
// the message if it is shorter.
func (c *cursor) ensure(n int) {
	for len(c.Data)-c.Pos < n && !c.end {
		c.fill(c.Pos)
	}
}

// skipSpace skips whitespace, across windows: after it, the window holds
// the next byte unless the message has ended.
func (c *cursor) skipSpace() {
	for {
		c.SkipSpace()
		if c.Pos < len(c.Data) || c.end {
			return
		}
		c.fill(c.Pos)
	}
}

// expect consumes b after optional whitespace.
func (c *cursor) expect(b byte) error {
	c.skipSpace()
	if got := c.Peek(); got != b {
		return fmt.Errorf("want %q at offset %d, got %q", b, c.offset(), got)
	}
	c.Pos++
	return nil
}

// finish checks that nothing but whitespace is left.
func (c *cursor) finish() error {
	c.skipSpace()
	if c.Pos != len(c.Data) {
		return fmt.Errorf("unexpected data at offset %d", c.offset())
	}
	return nil
}

// literal consumes lit if it is the whole next value.
func (c *cursor) literal(lit string) bool {
	c.ensure(len(lit) + 1) // and the byte after it, which must end it
	return c.Literal(lit)
}

// value consumes the next value, whole, and returns its bytes (valid
// until the next window).
func (c *cursor) value() ([]byte, error) {
	return c.whole(c.Value)
}

// stringToken consumes the next string token, whole.
func (c *cursor) stringToken() ([]byte, error) {
	return c.whole(c.StringToken)
}

// whole runs token, one of the lexer's, again on a longer window for as
// long as the token may go on past the window's end: it ran into the end,
// or it is a bare value (a number, a literal) that ends there.
func (c *cursor) whole(token func() ([]byte, error)) ([]byte, error) {
	for {
		start := c.Pos
		tok, err := token()
		cut := errors.Is(err, jsonlex.ErrUnexpectedEnd) || (err == nil && c.Pos == len(c.Data))
		if c.end || !cut {
			return tok, err
		}
		c.Pos = start
		c.fill(start)
	}
}

// response decodes the message, an object, into raw.
func (c *cursor) response(raw *Response) error {
	if err := c.expect('{'); err != nil {
		return err
	}
	c.skipSpace()
	if c.Peek() == '}' {
		c.Pos++
		return c.finish()
	}
	for {
		c.skipSpace()
		keyJSON, err := c.stringToken()
		if err != nil {
			return fmt.Errorf("response: key: %w", err)
		}
		key, err := unquote(keyJSON)
		if err != nil {
			return fmt.Errorf("response: key %s: %w", keyJSON, err)
		}
		if err := c.expect(':'); err != nil {
			return err
		}
		c.skipSpace()
		if err := c.field(key, raw); err != nil {
			return err
		}
		c.skipSpace()
		switch c.Next() {
		case ',':
			continue
		case '}':
			return c.finish()
		default:
			return fmt.Errorf("response: want ',' or '}' after %q at offset %d", key, c.offset()-1)
		}
	}
}

// field decodes the value of one key, matched as json.Unmarshal matches
// struct fields: case-insensitively, the last of duplicates winning.
func (c *cursor) field(key string, raw *Response) error {
	switch {
	case strings.EqualFold(key, "orders"):
		return c.orders(&raw.Orders)
	}
	val, err := c.value()
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
// it and says where it ended, so no byte of an order is scanned twice
// (unless the order straddles two windows).
func (c *cursor) orders(out *[]*zeroex.SignedOrder) error {
	if c.literal("null") {
		*out = nil
		return nil
	}
	if c.Peek() != '[' {
		return fmt.Errorf("response: \"orders\": want an array at offset %d", c.offset())
	}
	c.Pos++
	c.skipSpace()
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
		c.skipSpace()
		switch {
		case c.literal("null"):
			orders = append(orders, nil)
		case c.Peek() == '{':
			o, err := c.order()
			if err != nil {
				return fmt.Errorf("response: order %d: %w", i, err)
			}
			orders = append(orders, o)
		default:
			// Not an object: what json.Unmarshal would make of it is an
			// error either way; say which, as the order decoder does.
			var o zeroex.SignedOrder
			val, err := c.value()
			if err == nil {
				err = o.UnmarshalJSON(val)
			}
			if err == nil {
				err = errors.New("not an order")
			}
			return fmt.Errorf("response: order %d: %w", i, err)
		}
		c.skipSpace()
		switch c.Next() {
		case ',':
			continue
		case ']':
			*out = orders
			return nil
		default:
			return fmt.Errorf("response: want ',' or ']' after order %d at offset %d", i, c.offset()-1)
		}
	}
}

// order decodes the order whose object starts at the position. When the
// decoder fails on an object the window cuts short, the order is decoded
// again from a window that holds it.
func (c *cursor) order() (*zeroex.SignedOrder, error) {
	o := new(zeroex.SignedOrder)
	for {
		n, err := orderprefix.Decode(o, c.Data[c.Pos:])
		if err == nil {
			c.Pos += n
			return o, nil
		}
		probe := jsonlex.Lexer{Data: c.Data, Pos: c.Pos}
		if _, cut := probe.Value(); c.end || !errors.Is(cut, jsonlex.ErrUnexpectedEnd) {
			return nil, err
		}
		c.fill(c.Pos)
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
