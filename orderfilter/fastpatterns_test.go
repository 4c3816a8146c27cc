package orderfilter

import (
	"regexp"
	"strings"
	"testing"
)

func TestFastPatternsMatchLikeRegexp(t *testing.T) {
	inputs := []string{
		"", "0", "0x", "0x0", "0x00", "0X00", "x00", "00x", "0x0g", "0xAbCdEf", "0xabcdeG",
		"0x" + strings.Repeat("ab", 20), "0x" + strings.Repeat("AB", 20), "0x" + strings.Repeat("a", 39),
		"0x" + strings.Repeat("a", 41), "0x" + strings.Repeat("ab", 20) + "\n", "\n0x" + strings.Repeat("ab", 20),
		"1", "01", strings.Repeat("9", 78), strings.Repeat("9", 79), "12a", "-1", "1.0", "1\n", " 1", "１",
		"0x" + strings.Repeat("0", 64), "0xé0",
	}
	for pattern, fast := range fastPatterns {
		re := regexp.MustCompile(pattern)
		if fast.String() != pattern {
			t.Fatalf("String() = %q, want %q", fast.String(), pattern)
		}
		for _, s := range inputs {
			if got, want := fast.MatchString(s), re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", pattern, s, got, want)
			}
		}
	}
}

func FuzzFastPatterns(f *testing.F) {
	f.Add("0x" + strings.Repeat("ab", 20))
	f.Add("123")
	f.Add("0x")
	compiled := map[string]*regexp.Regexp{}
	for pattern := range fastPatterns {
		compiled[pattern] = regexp.MustCompile(pattern)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for pattern, fast := range fastPatterns {
			if got, want := fast.MatchString(s), compiled[pattern].MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, regexp says %v", pattern, s, got, want)
			}
		}
	})
}
