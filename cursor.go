package ordersync

import (
	"errors"
	"fmt"
)

// cursor walks a JSON document, finding where values end without decoding
// them; the callers decode or check each value.
type cursor struct {
	data []byte
	pos  int
	// maxOrders bounds the orders decodeResponse takes from one array.
	maxOrders int
}

var errUnexpectedEnd = errors.New("unexpected end of JSON")

func (c *cursor) skipSpace() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

// peek is the byte at the cursor, 0 at the end.
func (c *cursor) peek() byte {
	if c.pos < len(c.data) {
		return c.data[c.pos]
	}
	return 0
}

// next consumes and returns the byte at the cursor, 0 at the end.
func (c *cursor) next() byte {
	b := c.peek()
	c.pos++
	return b
}

// expect consumes b after optional whitespace.
func (c *cursor) expect(b byte) error {
	c.skipSpace()
	if got := c.peek(); got != b {
		return fmt.Errorf("want %q at offset %d, got %q", b, c.pos, got)
	}
	c.pos++
	return nil
}

// end checks that nothing but whitespace is left.
func (c *cursor) end() error {
	c.skipSpace()
	if c.pos != len(c.data) {
		return fmt.Errorf("unexpected data at offset %d", c.pos)
	}
	return nil
}

// literal consumes lit if it is the whole next value.
func (c *cursor) literal(lit string) bool {
	end := c.pos + len(lit)
	if end > len(c.data) || string(c.data[c.pos:end]) != lit {
		return false
	}
	if end < len(c.data) && !isDelimiter(c.data[end]) {
		return false
	}
	c.pos = end
	return true
}

// value consumes the next value and returns its bytes. It checks strings'
// quotes and escapes' reach and brackets' nesting, not the rest.
func (c *cursor) value() ([]byte, error) {
	start := c.pos
	switch c.peek() {
	case '"':
		return c.stringValue()
	case '{', '[':
		depth := 0
		for c.pos < len(c.data) {
			switch c.data[c.pos] {
			case '"':
				if _, err := c.stringValue(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					c.pos++
					return c.data[start:c.pos], nil
				}
			}
			c.pos++
		}
		return nil, errUnexpectedEnd
	case 0:
		return nil, errUnexpectedEnd
	default:
		for c.pos < len(c.data) && !isDelimiter(c.data[c.pos]) {
			c.pos++
		}
		if c.pos == start {
			return nil, fmt.Errorf("want a value at offset %d, got %q", start, c.data[start])
		}
		return c.data[start:c.pos], nil
	}
}

// stringValue consumes a string token, quotes included.
func (c *cursor) stringValue() ([]byte, error) {
	start := c.pos
	if c.peek() != '"' {
		return nil, fmt.Errorf("want a string at offset %d", c.pos)
	}
	for c.pos++; c.pos < len(c.data); c.pos++ {
		switch c.data[c.pos] {
		case '\\':
			c.pos++
		case '"':
			c.pos++
			return c.data[start:c.pos], nil
		}
	}
	return nil, errUnexpectedEnd
}

func isDelimiter(b byte) bool {
	switch b {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
