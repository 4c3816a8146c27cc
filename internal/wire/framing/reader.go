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
	parts   [][]byte // the filled pieces of a message larger than pieceSize
	reserve func(n int) error
	read    int64
	part    partState // a message read in parts (parts.go)
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
	r.msg, r.parts = r.msg[:0], r.parts[:0]
	var sc scanner
	return r.readRest(&sc, 0)
}

// readRest reads on to the end of a message of which size bytes have been
// read, sc having scanned them, and returns the bytes in r.msg (all the
// message's, or those of them a reader in parts kept) followed by the
// rest, in one buffer.
func (r *Reader) readRest(sc *scanner, size int) ([]byte, error) {
	for {
		chunk, peekErr := r.peekSome()
		if len(chunk) == 0 {
			if peekErr == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, peekErr
		}
		n, done, err := sc.scan(chunk, size == 0)
		if err != nil {
			return nil, err
		}
		if size+n > r.max {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.max)
		}
		// The scanned bytes stay in the bufio buffer until the next read.
		data := chunk[:n]
		r.discard(n)
		for len(data) > 0 {
			if len(r.msg) == cap(r.msg) {
				if err := r.grow(len(data), size); err != nil {
					if size += len(data); done {
						return nil, err
					}
					return nil, r.refused(sc, size, err)
				}
			}
			k := min(len(data), cap(r.msg)-len(r.msg))
			r.msg = append(r.msg, data[:k]...)
			data = data[k:]
			size += k
		}
		if done {
			return r.join(), nil
		}
	}
}

// join returns the message: r.msg, or, when the message came in pieces,
// the pieces copied into one buffer that becomes r.msg. The
// copy needs no reservation of its own: the pieces' reservations, which
// the Reader keeps, cover it, and the pieces are garbage once it is made.
// A reader of large messages reads them in parts (More) instead, which
// never holds one whole.
func (r *Reader) join() []byte {
	if len(r.parts) == 0 {
		return r.msg
	}
	size := len(r.msg)
	for _, p := range r.parts {
		size += len(p)
	}
	joined := make([]byte, 0, size)
	for _, p := range r.parts {
		joined = append(joined, p...)
	}
	joined = append(joined, r.msg...)
	clear(r.parts)
	r.msg, r.parts = joined, r.parts[:0]
	return joined
}

// refused is ReadMessage's error when memory for a message of which size
// bytes are buffered was refused (err): the message is read on without
// keeping it, to its end or the size bound, so that a message over the
// bound is ErrTooLarge whichever limit noticed it first, and one within it
// is err (the resource manager's, not the peer's fault).
func (r *Reader) refused(sc *scanner, size int, err error) error {
	for {
		chunk, peekErr := r.peekSome()
		if len(chunk) == 0 {
			if peekErr == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return errors.Join(err, peekErr)
		}
		n, done, scanErr := sc.scan(chunk, false)
		if scanErr != nil {
			return scanErr
		}
		if size+n > r.max {
			return fmt.Errorf("%w: more than %d bytes (memory for it was refused first: %v)", ErrTooLarge, r.max, err)
		}
		size += n
		r.discard(n)
		if done {
			return err
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

// pieceSize is the size of the pieces a message past it is read into: up
// to it the buffer doubles, copying; past it, pieces are added and copied
// once, into one buffer, when the message is whole. Growing one buffer by
// copying past it cost several times the message in garbage (213 MB for
// one of 16 MiB), and once, near the resource manager's limit, 5.6 GB.
const pieceSize = 1 << 20

// grow makes room in a full r.msg for n more bytes of a message of which
// size are read, reserving memory first: by doubling the buffer up to
// pieceSize, and past it with a new piece (no larger than the bound leaves
// room for, and perhaps smaller than n: the caller fills it and asks
// again). A piece the resource manager refuses is asked for at half the
// size, and so on down to one byte before giving up.
func (r *Reader) grow(n, size int) error {
	need := len(r.msg) + n
	if cap(r.msg) >= pieceSize || len(r.parts) > 0 {
		// Past a piece: keep it, start the next one.
		piece := max(min(pieceSize, r.max-size), 1)
		for {
			err := r.take(piece)
			if err == nil {
				break
			}
			if piece == 1 {
				return fmt.Errorf("framing: reserving memory for a message of more than %d bytes: %w", size, err)
			}
			piece /= 2
		}
		r.parts = append(r.parts, r.msg)
		r.msg = make([]byte, 0, piece)
		return nil
	}
	return r.growTo(min(max(2*cap(r.msg), need, 512), max(pieceSize, need), r.max))
}

// growTo moves r.msg into a buffer of newCap bytes, reserving the
// difference first.
func (r *Reader) growTo(newCap int) error {
	if err := r.take(newCap - cap(r.msg)); err != nil {
		return fmt.Errorf("framing: reserving %d bytes for a message: %w", newCap-cap(r.msg), err)
	}
	grown := make([]byte, len(r.msg), newCap)
	copy(grown, r.msg)
	r.msg = grown
	return nil
}

// take reserves n bytes, if the Reader reserves.
func (r *Reader) take(n int) error {
	if r.reserve == nil {
		return nil
	}
	return r.reserve(n)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
