package framing

import "fmt"

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
	i := 0
	if first {
		if chunk[0] != '{' {
			return 0, false, fmt.Errorf("%w: starts with %q", ErrNotObject, chunk[0])
		}
	}
	for ; i < len(chunk); i++ {
		c := chunk[i]
		if s.inString {
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.inString = false
			}
			continue
		}
		switch c {
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
	return i, false, nil
}
