package main

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProgressBarsShowEveryRequester(t *testing.T) {
	var out bytes.Buffer
	var a, b atomic.Int64
	a.Store(40)
	b.Store(10)
	p := newProgress(&out, true, []string{"node-a", "node-bb"},
		[]func() int64{a.Load, b.Load},
		[]func() string{func() string { return "GetOrders" }, func() string { return "done" }},
		40, time.Hour)
	p.Stop()
	p.Stop() // a second Stop is harmless
	got := out.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per requester, got %q", got)
	}
	for i, want := range [][]string{
		{"node-a ", "100%", "(40/40", "GetOrders"},
		{"node-bb", "25%", "(10/40", "done"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
}

func TestProgressBarsRedrawInPlace(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, true, []string{"x", "y", "z"},
		[]func() int64{func() int64 { return 1 }, func() int64 { return 2 }, func() int64 { return 3 }},
		[]func() string{func() string { return "" }, func() string { return "" }, func() string { return "" }},
		3, time.Hour)
	p.drawBars() // the render goroutine only ticks hourly: draw a frame here, then Stop draws the last
	p.Stop()
	// The second frame moves the cursor up over the three lines of the first.
	if n := strings.Count(out.String(), "\x1b[3A"); n != 1 {
		t.Errorf("want one cursor-up over 3 lines, got %d in %q", n, out.String())
	}
}

func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false, []string{"r1", "r2"},
		[]func() int64{func() int64 { return 5 }, func() int64 { return 0 }},
		[]func() string{func() string { return "done" }, func() string { return "FAILED" }},
		10, time.Hour)
	p.Stop()
	if got, want := out.String(), "held (final): r1 5/10 (50%, done) r2 0/10 (0%, FAILED)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLastLineKeepsTheLatestText(t *testing.T) {
	var l lastLine
	for _, step := range []struct{ write, want string }{
		{"\rfirst", "first"},
		{"\r      \r", "first"}, // a clearing pass keeps what was there
		{"\x1b[2K\r", "first"},
		{"\rsecond", "second"},
	} {
		if _, err := l.Write([]byte(step.write)); err != nil {
			t.Fatal(err)
		}
		if got := l.String(); got != step.want {
			t.Errorf("after %q: got %q, want %q", step.write, got, step.want)
		}
	}
}
