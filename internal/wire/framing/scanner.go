package framing

import (
	"bytes"
	"fmt"
)

// scanner follows a JSON object's structure byte by byte, just enough to
// find where it ends: nesting depth, strings and escapes. It does not check
// that the object is valid JSON; the decoder that reads it afterwards does.
type scanner struct {
	depth    int
	inString bool
	escaped  bool
	// inArray[d] says whether the bracket open at depth d+1 is '['.
	inArray [MaxDepth]bool
}

// scan consumes bytes of chunk. It returns how many bytes belong to the
// message and whether the message ended with them. first says chunk starts
// the message.
func (s *scanner) scan(chunk []byte, first bool) (n int, done bool, err error) {
	if first {
		if chunk[0] != '{' {
			return 0, false, fmt.Errorf("%w: starts with %q", ErrNotObject, chunk[0])
		}
	}
	for i := 0; i < len(chunk); i++ {
		if s.inString {
			end, closed := s.skipString(chunk, i)
			if !closed {
				return len(chunk), false, nil
			}
			i = end // the closing quote
			continue
		}
		switch c := chunk[i]; c {
		case '"':
			s.inString = true
		case '{', '[':
			if s.depth == MaxDepth {
				return 0, false, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
			}
			s.inArray[s.depth] = c == '['
			s.depth++
		case '}', ']':
			s.depth--
			if s.inArray[s.depth] != (c == ']') {
				return 0, false, fmt.Errorf("%w: %q closes the wrong bracket", ErrMalformed, c)
			}
			if s.depth == 0 {
				return i + 1, true, nil
			}
		}
	}
	return len(chunk), false, nil
}

// skipString consumes the string bytes of chunk from i on, up to the
// closing quote, whose index it returns with true. It returns false when
// the chunk ends first, with s.escaped set if its last byte began an
// escape. Most of a message is strings (hex digits, mostly), so it jumps
// from quote to quote with bytes.IndexByte instead of stepping byte by
// byte, and looks for backslashes only between a quote and the one
// before. Each byte is searched at most once for a quote and once for a
// backslash, whatever the input.
func (s *scanner) skipString(chunk []byte, i int) (int, bool) {
	if s.escaped {
		s.escaped = false
		i++
	}
	quote := -1 // the next quote at or after i, once looked for; len(chunk) for none
	for i < len(chunk) {
		if quote < i {
			quote = len(chunk)
			if q := bytes.IndexByte(chunk[i:], '"'); q >= 0 {
				quote = i + q
			}
		}
		b := bytes.IndexByte(chunk[i:quote], '\\')
		if b < 0 {
			if quote == len(chunk) {
				return len(chunk), false
			}
			s.inString = false
			return quote, true
		}
		i += b + 2 // the backslash and the byte it escapes
	}
	s.escaped = i > len(chunk)
	return len(chunk), false
}
