// Package jsonlex is the small JSON lexer under ordersync's hand-written
// decoders (the response decoder in internal/wire and zeroex's order
// decoder): it walks a document byte by byte and finds where values end
// without decoding them, so that each decoder checks and decodes only what
// it needs, in one pass. It allocates nothing.
package jsonlex

import (
	"bytes"
	"errors"
	"fmt"
)

// Lexer is a position in a JSON document. Decoders embed it and read Data
// and Pos directly where a token needs more care than the methods give.
type Lexer struct {
	Data []byte
	Pos  int
}

// ErrUnexpectedEnd is the error for a document that ends inside a value.
var ErrUnexpectedEnd = errors.New("unexpected end of JSON")

// SkipSpace skips JSON whitespace.
func (l *Lexer) SkipSpace() {
	for l.Pos < len(l.Data) {
		switch l.Data[l.Pos] {
		case ' ', '\t', '\n', '\r':
			l.Pos++
		default:
			return
		}
	}
}

// Peek is the byte at the position, 0 at the end.
func (l *Lexer) Peek() byte {
	if l.Pos < len(l.Data) {
		return l.Data[l.Pos]
	}
	return 0
}

// Next consumes and returns the byte at the position, 0 at the end.
func (l *Lexer) Next() byte {
	b := l.Peek()
	l.Pos++
	return b
}

// Expect consumes b after optional whitespace.
func (l *Lexer) Expect(b byte) error {
	l.SkipSpace()
	if got := l.Peek(); got != b {
		return fmt.Errorf("want %q at offset %d, got %q", b, l.Pos, got)
	}
	l.Pos++
	return nil
}

// End checks that nothing but whitespace is left.
func (l *Lexer) End() error {
	l.SkipSpace()
	if l.Pos != len(l.Data) {
		return fmt.Errorf("unexpected data at offset %d", l.Pos)
	}
	return nil
}

// Literal consumes lit if it is the whole next value.
func (l *Lexer) Literal(lit string) bool {
	end := l.Pos + len(lit)
	if end > len(l.Data) || string(l.Data[l.Pos:end]) != lit {
		return false
	}
	if end < len(l.Data) && !IsDelimiter(l.Data[end]) {
		return false
	}
	l.Pos = end
	return true
}

// Value consumes the next value and returns its bytes. It checks strings'
// quotes and escapes' reach and brackets' nesting, not the rest: the caller
// checks or decodes what it keeps.
func (l *Lexer) Value() ([]byte, error) {
	start := l.Pos
	switch l.Peek() {
	case '"':
		return l.StringToken()
	case '{', '[':
		depth := 0
		for l.Pos < len(l.Data) {
			switch l.Data[l.Pos] {
			case '"':
				if _, err := l.StringToken(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					l.Pos++
					return l.Data[start:l.Pos], nil
				}
			}
			l.Pos++
		}
		return nil, ErrUnexpectedEnd
	case 0:
		return nil, ErrUnexpectedEnd
	default:
		for l.Pos < len(l.Data) && !IsDelimiter(l.Data[l.Pos]) {
			l.Pos++
		}
		if l.Pos == start {
			return nil, fmt.Errorf("want a value at offset %d, got %q", start, l.Data[start])
		}
		return l.Data[start:l.Pos], nil
	}
}

// StringToken consumes a string token and returns it, quotes included.
func (l *Lexer) StringToken() ([]byte, error) {
	start := l.Pos
	if l.Peek() != '"' {
		return nil, fmt.Errorf("want a string at offset %d", l.Pos)
	}
	end := StringEnd(l.Data, l.Pos+1)
	if end < 0 {
		l.Pos = len(l.Data)
		return nil, ErrUnexpectedEnd
	}
	l.Pos = end + 1
	return l.Data[start:l.Pos], nil
}

// StringEnd returns the index of the quote that closes the string whose
// contents start at data[i], or -1 if data ends first. It does not check
// the contents. Most of an order's JSON is long strings of hex digits, so
// it jumps from quote to quote with bytes.IndexByte and looks for
// backslashes (which may escape a quote) only between them; each byte is
// searched at most once for each, whatever the input.
func StringEnd(data []byte, i int) int {
	quote := -1 // the next quote at or after i, once looked for
	for i < len(data) {
		if quote < i {
			q := bytes.IndexByte(data[i:], '"')
			if q < 0 {
				return -1
			}
			quote = i + q
		}
		b := bytes.IndexByte(data[i:quote], '\\')
		if b < 0 {
			return quote
		}
		i += b + 2 // the backslash and the byte it escapes
	}
	return -1
}

// IsDelimiter says whether b ends a bare value (a number, true, false,
// null).
func IsDelimiter(b byte) bool {
	switch b {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
