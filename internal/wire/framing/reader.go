// Package framing reads and writes ordersync's messages: JSON objects one
// after another on a stream, each as json.Encoder writes it (the object and a
// newline), with any JSON whitespace accepted between them.
//
// The Reader finds where one top-level object ends without decoding it, so
// that an over-size or malformed message is refused as soon as it shows,
// before the rest of it is read into memory.
package framing

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned when a message is longer than the Reader's bound.
var ErrTooLarge = errors.New("framing: message too large")

// ErrNotObject is returned when a message does not start with '{'.
var ErrNotObject = errors.New("framing: message is not a JSON object")

// ErrMalformed is returned when a message's brackets do not match.
var ErrMalformed = errors.New("framing: malformed JSON")

// ErrTooDeep is returned when a message nests objects and arrays deeper than
// MaxDepth: no ordersync message needs that, and a decoder would spend stack
// on it.
var ErrTooDeep = errors.New("framing: message nested too deeply")

// MaxDepth is the deepest nesting of objects and arrays a Reader accepts.
const MaxDepth = 256

// defaultBufferSize is the size of the bufio.Reader under a Reader.
const defaultBufferSize = 4096

// Reader reads one message at a time from a stream. Use one Reader per
// stream direction for the whole stream: it buffers bytes past the end of a
// message, and those belong to the next one.
type Reader struct {
	br      *bufio.Reader
	max     int
	msg     []byte
	reserve func(n int) error
	read    int64
}

// NewReader returns a Reader of messages from r of at most max bytes each.
// The whitespace before a message is bounded by max too.
//
// If reserve is not nil, the Reader calls it with the number of bytes of
// memory it is about to take (for its buffers) before taking them; an error
// from reserve fails the read. Its caller releases the total when done with
// the Reader (see Reserved).
func NewReader(r io.Reader, max int, reserve func(n int) error) (*Reader, error) {
	if max <= 0 {
		return nil, fmt.Errorf("framing: size bound %d: must be positive", max)
	}
	size := defaultBufferSize
	if max < size {
		size = max
	}
	if size < 16 {
		size = 16 // bufio's minimum
	}
	if reserve != nil {
		if err := reserve(size); err != nil {
			return nil, fmt.Errorf("framing: reserving %d bytes for the read buffer: %w", size, err)
		}
	}
	return &Reader{br: bufio.NewReaderSize(r, size), max: max, reserve: reserve}, nil
}

// BytesRead is how many bytes the Reader has taken from its stream so far,
// whitespace included.
func (r *Reader) BytesRead() int64 { return r.read }

// ReadMessage returns the bytes of the next message, from its '{' to its
// '}'. The slice is valid until the next call.
//
// It returns io.EOF when the stream ends cleanly between messages,
// io.ErrUnexpectedEOF when it ends inside one, ErrNotObject, ErrTooLarge,
// ErrMalformed or ErrTooDeep (wrapped, with details) for a bad message, or the stream's own
// error. After an error other than io.EOF the stream is out of step and must
// be closed.
func (r *Reader) ReadMessage() ([]byte, error) {
	if err := r.skipSpace(); err != nil {
		return nil, err
	}
	r.msg = r.msg[:0]
	var sc scanner
	for {
		chunk, peekErr := r.peekSome()
		if len(chunk) == 0 {
			if peekErr == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, peekErr
		}
		n, done, err := sc.scan(chunk, len(r.msg) == 0)
		if err != nil {
			return nil, err
		}
		if len(r.msg)+n > r.max {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.max)
		}
		if err := r.grow(n); err != nil {
			return nil, err
		}
		r.msg = append(r.msg, chunk[:n]...)
		r.discard(n)
		if done {
			return r.msg, nil
		}
	}
}

// peekSome returns the bytes buffered now, reading more first if none are.
func (r *Reader) peekSome() ([]byte, error) {
	n := r.br.Buffered()
	if n == 0 {
		n = 1
	}
	b, err := r.br.Peek(n)
	if len(b) > 0 {
		// More may have arrived with the one byte we waited for.
		if more := r.br.Buffered(); more > len(b) {
			b, _ = r.br.Peek(more)
		}
	}
	return b, err
}

func (r *Reader) discard(n int) {
	d, _ := r.br.Discard(n) // n bytes are buffered: cannot fail
	r.read += int64(d)
}

// skipSpace discards JSON whitespace before a message. It returns io.EOF if
// the stream ends first, and ErrTooLarge after more whitespace than the
// message bound: a peer must not keep a stream busy with padding.
func (r *Reader) skipSpace() error {
	skipped := 0
	for {
		chunk, err := r.peekSome()
		i := 0
		for i < len(chunk) && isSpace(chunk[i]) {
			i++
		}
		r.discard(i)
		skipped += i
		if i < len(chunk) {
			return nil
		}
		if err != nil {
			return err
		}
		// Stop before reading more: whitespace alone has filled the bound.
		if skipped >= r.max {
			return fmt.Errorf("%w: %d bytes of whitespace before a message", ErrTooLarge, skipped)
		}
	}
}

// grow makes room for n more message bytes, reserving memory first. Up to
// 1 MiB the buffer doubles; past that it grows by a quarter, so that a
// message near the bound does not reserve twice its size from a resource
// manager whose stream limit is close to the bound. If even that is
// refused, it asks for exactly what it needs before giving up.
func (r *Reader) grow(n int) error {
	need := len(r.msg) + n
	if need <= cap(r.msg) {
		return nil
	}
	newCap := 2 * cap(r.msg)
	if cap(r.msg) >= 1<<20 {
		newCap = cap(r.msg) + cap(r.msg)/4
	}
	newCap = min(max(newCap, need, 512), r.max)
	if r.reserve != nil {
		if err := r.reserve(newCap - cap(r.msg)); err != nil {
			if newCap == need {
				return fmt.Errorf("framing: reserving %d bytes for a message: %w", newCap-cap(r.msg), err)
			}
			newCap = need
			if err := r.reserve(newCap - cap(r.msg)); err != nil {
				return fmt.Errorf("framing: reserving %d bytes for a message: %w", newCap-cap(r.msg), err)
			}
		}
	}
	grown := make([]byte, len(r.msg), newCap)
	copy(grown, r.msg)
	r.msg = grown
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
