package orderfilter

import "github.com/santhosh-tekuri/jsonschema/v6"

// The patterns of the built-in schemas. Every $ref to /address, /hex or
// /wholeNumber runs one, so a custom schema that refs /signedOrder runs 16
// per order: hand-written matchers make such a schema about a third faster.
const (
	addressPattern     = "^0x[0-9a-fA-F]{40}$"
	hexPattern         = "^0x([0-9a-fA-F]{2})*$"
	wholeNumberPattern = "^[0-9]{1,78}$"
)

// fastPatterns are matchers equivalent to regexp's for these exact
// patterns, wherever they appear (built-in or custom schema). In Go's
// syntax "$" is the end of the text, never before a final newline.
var fastPatterns = map[string]jsonschema.Regexp{
	addressPattern: fastPattern{addressPattern, func(s string) bool {
		return len(s) == 42 && s[:2] == "0x" && allHex(s[2:])
	}},
	hexPattern: fastPattern{hexPattern, func(s string) bool {
		return len(s) >= 2 && len(s)%2 == 0 && s[:2] == "0x" && allHex(s[2:])
	}},
	wholeNumberPattern: fastPattern{wholeNumberPattern, func(s string) bool {
		if len(s) < 1 || len(s) > 78 {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}},
}

// fastPattern is a jsonschema.Regexp written by hand.
type fastPattern struct {
	pattern string
	match   func(string) bool
}

// String implements jsonschema.Regexp.
func (p fastPattern) String() string { return p.pattern }

// MatchString implements jsonschema.Regexp.
func (p fastPattern) MatchString(s string) bool { return p.match(s) }

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
