package framing

import (
	"bytes"
	"encoding/json"
	"io"
)

// Writer writes messages to a stream, each in one Write call and ended by a
// newline, as json.Encoder does. Its buffer is reused between messages.
type Writer struct {
	w       io.Writer
	buf     []byte
	enc     *json.Encoder
	encBuf  bytes.Buffer
	written int64
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	wr.enc = json.NewEncoder(&wr.encBuf)
	return wr
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

// WriteMessage writes the message that build appends to the (empty) buffer
// it is given, followed by a newline. build must append one JSON object.
func (w *Writer) WriteMessage(build func(dst []byte) ([]byte, error)) error {
	msg, err := build(w.buf[:0])
	if err != nil {
		return err
	}
	msg = append(msg, '\n')
	w.buf = msg
	n, err := w.w.Write(msg)
	w.written += int64(n)
	return err
}
