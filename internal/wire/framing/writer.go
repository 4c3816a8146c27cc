package framing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Writer writes messages to a stream, each in one Write call and ended by a
// newline, as json.Encoder does.
//
// WriteMessageInPieces builds each message in a buffer borrowed from a
// pool shared by all Writers and gives it back once written, so a stream
// that waits between messages holds no buffer; with WithMemory, the buffer
// is also accounted for while a write is under way (a peer that does not
// read keeps it there until the write deadline).
type Writer struct {
	w       io.Writer
	enc     *json.Encoder
	encBuf  bytes.Buffer
	written int64
	reserve func(int) error
	release func(int)
}

// maxPooledBuffer keeps rare huge messages from pinning their buffers in
// the pool.
const maxPooledBuffer = 4 << 20

var buffers = sync.Pool{New: func() any { return new([]byte) }}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	wr.enc = json.NewEncoder(&wr.encBuf)
	return wr
}

// WithMemory makes WriteMessageInPieces take each message's buffer from reserve
// before writing it and give it back with release afterwards (libp2p's
// resource manager, on a stream). When reserve fails, the message is not
// written. It returns w.
func (w *Writer) WithMemory(reserve func(int) error, release func(int)) *Writer {
	w.reserve, w.release = reserve, release
	return w
}

// BytesWritten is how many bytes the Writer has written so far.
func (w *Writer) BytesWritten() int64 { return w.written }

// WriteValue writes v as json.Encoder would.
func (w *Writer) WriteValue(v any) error {
	w.encBuf.Reset()
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	n, err := w.w.Write(w.encBuf.Bytes())
	w.written += int64(n)
	return err
}

// WriteMessageInPieces writes one message that build produces in pieces:
// build appends to the buffer it is given and, whenever it has appended
// enough to be worth a write, calls flush, which writes the buffer and
// returns it emptied; build returns the last piece, which WriteMessageInPieces
// writes followed by a newline. A large message thus never sits whole in
// memory. If build fails after a flush, part of the message has been
// written: the caller must reset the stream.
func (w *Writer) WriteMessageInPieces(build func(buf []byte, flush func([]byte) ([]byte, error)) ([]byte, error)) error {
	pooled := buffers.Get().(*[]byte)
	flush := func(piece []byte) ([]byte, error) {
		return piece[:0], w.write(piece)
	}
	last, err := build((*pooled)[:0], flush)
	if err == nil {
		last = append(last, '\n')
		err = w.write(last)
	}
	if cap(last) <= maxPooledBuffer {
		*pooled = last[:0]
		buffers.Put(pooled)
	}
	return err
}

func (w *Writer) write(msg []byte) error {
	if w.reserve != nil {
		size := cap(msg)
		if err := w.reserve(size); err != nil {
			return fmt.Errorf("framing: no memory to write %d bytes of a message: %w", len(msg), err)
		}
		defer w.release(size)
	}
	n, err := w.w.Write(msg)
	w.written += int64(n)
	return err
}
