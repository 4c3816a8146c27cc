package jsonlex

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestValueFindsEnds(t *testing.T) {
	for _, tc := range []struct{ doc, value string }{
		{`"a\"b",1`, `"a\"b"`},
		{`{"a":[1,{"b":"}]"}]} x`, `{"a":[1,{"b":"}]"}]}`},
		{`-1.5e3]`, `-1.5e3`},
		{`true}`, `true`},
		{`[]`, `[]`},
	} {
		l := Lexer{Data: []byte(tc.doc)}
		got, err := l.Value()
		if err != nil || string(got) != tc.value || l.Pos != len(tc.value) {
			t.Errorf("%s: %q, %v at %d; want %q", tc.doc, got, err, l.Pos, tc.value)
		}
	}
	for _, doc := range []string{``, `"abc`, `{"a":1`, `[[]`, `,`} {
		l := Lexer{Data: []byte(doc)}
		if got, err := l.Value(); err == nil {
			t.Errorf("%q: took %q", doc, got)
		}
	}
}

func TestLiteralIsWholeValue(t *testing.T) {
	for doc, want := range map[string]bool{"null": true, "null,": true, "nullx": false, "nul": false, "null ]": true} {
		l := Lexer{Data: []byte(doc)}
		if got := l.Literal("null"); got != want || (got && l.Pos != 4) {
			t.Errorf("%q: %v at %d, want %v", doc, got, l.Pos, want)
		}
	}
}

func TestExpectAndEnd(t *testing.T) {
	l := Lexer{Data: []byte(" \t{ } \n")}
	if err := l.Expect('{'); err != nil {
		t.Fatal(err)
	}
	if err := l.Expect('}'); err != nil {
		t.Fatal(err)
	}
	if err := l.End(); err != nil {
		t.Fatal(err)
	}
	l = Lexer{Data: []byte("{} x")}
	l.Pos = 2
	if err := l.End(); err == nil {
		t.Fatal("trailing data taken")
	}
	if err := (&Lexer{Data: []byte("[")}).Expect('{'); err == nil {
		t.Fatal("wrong byte taken")
	}
}

// FuzzValue holds Value to encoding/json: on a valid document, Value takes
// the whole of it (less whitespace around), and on anything it never
// panics or reads past the end.
func FuzzValue(f *testing.F) {
	for _, seed := range []string{`{"a":[1,"]"]}`, `"\\"`, `  12 `, `[{}]`, `{"a\"":1}`, `nul`, `"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		for i := range doc {
			if got, want := StringEnd(doc, i), stringEndByteByByte(doc, i); got != want {
				t.Fatalf("%q: StringEnd from %d is %d, want %d", doc, i, got, want)
			}
		}
		l := Lexer{Data: doc}
		l.SkipSpace()
		got, err := l.Value()
		if l.Pos > len(doc) && err == nil {
			t.Fatalf("%q: position %d past the end", doc, l.Pos)
		}
		if !json.Valid(doc) {
			return
		}
		if err != nil {
			t.Fatalf("%q: valid JSON refused: %v", doc, err)
		}
		if want := bytes.TrimSpace(doc); !bytes.Equal(got, want) {
			t.Fatalf("%q: took %q, want %q", doc, got, want)
		}
		if err := l.End(); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
	})
}

// stringEndByteByByte is what StringEnd does, the slow way.
func stringEndByteByByte(data []byte, i int) int {
	for ; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func TestStringEnd(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{`abc"`, 3}, {`abc`, -1}, {`\"x"`, 3}, {`\\"`, 2}, {`\\\"x"`, 5}, {`\`, -1}, {`"`, 0}, {``, -1},
		{strings.Repeat(`\n`, 1000) + `"`, 2000},
	} {
		if got := StringEnd([]byte(tc.doc), 0); got != tc.want {
			t.Errorf("%q: %d, want %d", tc.doc, got, tc.want)
		}
	}
}
