package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows, while syncs run, how many of its target orders each
// requester holds: one progress bar per requester when the output is a
// terminal, one plain line per interval otherwise (logs, CI, pipes).
//
// The render goroutine polls each requester's count (its store's size) and
// is the only writer to the output, so bars never interleave.
type progress struct {
	out    io.Writer
	names  []string
	target int64
	counts []func() int64
	notes  []func() string

	interactive bool
	bars        []*progressbar.ProgressBar
	lines       []*lastLine
	drawn       int // lines of the previous frame, to move the cursor back over

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// isTerminal reports whether f is a terminal, so that we only draw bars
// (carriage returns, cursor moves) where a person is watching.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress starts showing progress towards target orders for each named
// requester, whose count counts[i] returns and whose current step notes[i]
// says, redrawn every interval. Call Stop to draw the final state.
func newProgress(out io.Writer, interactive bool, names []string, counts []func() int64, notes []func() string, target int64, interval time.Duration) *progress {
	p := &progress{
		out:         out,
		names:       names,
		target:      max(target, 1), // a bar of 0 would be a spinner
		counts:      counts,
		notes:       notes,
		interactive: interactive,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if interactive {
		width := 0
		for _, n := range names {
			width = max(width, len(n))
		}
		for _, n := range names {
			line := &lastLine{}
			p.lines = append(p.lines, line)
			p.bars = append(p.bars, progressbar.NewOptions64(p.target,
				progressbar.OptionSetWriter(line),
				progressbar.OptionSetDescription(fmt.Sprintf("%-*s", width, n)),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("orders"),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(0),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionSetElapsedTime(true),
			))
		}
	}
	go p.run(interval)
	return p
}

// Stop draws the final state and returns once nothing more will be written.
func (p *progress) Stop() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *progress) run(interval time.Duration) {
	defer close(p.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.draw(false)
		case <-p.stop:
			p.draw(true)
			return
		}
	}
}

func (p *progress) draw(final bool) {
	if p.interactive {
		p.drawBars()
		return
	}
	p.drawLine(final)
}

// drawBars redraws every bar in place: move the cursor up over the previous
// frame, then clear and write each line.
func (p *progress) drawBars() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for i, bar := range p.bars {
		_ = bar.Set64(p.counts[i]())
		b.WriteString("\r\x1b[2K")
		b.WriteString(p.lines[i].String())
		b.WriteString(" ")
		b.WriteString(p.notes[i]())
		b.WriteByte('\n')
	}
	p.drawn = len(p.bars)
	_, _ = io.WriteString(p.out, b.String())
}

// drawLine writes one line with every requester's count, for outputs that
// are not a terminal.
func (p *progress) drawLine(final bool) {
	var b strings.Builder
	if final {
		b.WriteString("held (final):")
	} else {
		b.WriteString("held:")
	}
	for i, n := range p.names {
		c := p.counts[i]()
		pct := 0.0
		if p.target > 0 {
			pct = 100 * float64(c) / float64(p.target)
		}
		fmt.Fprintf(&b, " %s %d/%d (%.0f%%, %s)", n, c, p.target, pct, p.notes[i]())
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(p.out, b.String())
}

// lastLine keeps the last line a progress bar rendered. A bar writes "\r"
// and its text (sometimes a clearing pass first); we keep the latest
// non-blank text so that our own renderer can place it.
type lastLine struct {
	mu   sync.Mutex
	cur  []byte
	last string
}

func (l *lastLine) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range b {
		switch c {
		case '\r', '\n':
			l.flush()
		default:
			l.cur = append(l.cur, c)
		}
	}
	l.flush()
	return len(b), nil
}

// flush keeps the pending text if it has anything but blanks or escape
// sequences of a clearing pass.
func (l *lastLine) flush() {
	s := string(l.cur)
	l.cur = l.cur[:0]
	if strings.TrimSpace(strings.ReplaceAll(s, "\x1b[2K", "")) != "" {
		l.last = s
	}
}

func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
