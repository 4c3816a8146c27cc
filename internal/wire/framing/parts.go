package framing

import (
	"fmt"
	"io"
)

// A message can also be read in parts, for a decoder that takes it in as
// it arrives (internal/wire's DecodeResponseFrom): NextMessage begins it,
// and each More returns a window of it that the decoder consumes from the
// front, telling the next More how much of the window's end it has not
// consumed yet. Only the window is in memory, not the whole message: a
// 16 MiB answer of orders costs its decoded orders and a window of about
// 100 KiB, where reading it whole cost the message twice over (its pieces
// and the buffer they were joined into) besides the orders. Only a value
// longer than half a piece (a large sketch) makes More read the rest of
// the message whole, as ReadMessage does.

// partStep is how many new bytes More reads at the least before it
// returns (unless the message ends first). A value that straddles two
// windows is decoded again from its start, so the step is large next to
// an order (about 1.3 kB) and small next to a message.
const partStep = 64 << 10

// NextMessage begins reading the next message in parts. It returns io.EOF
// when the stream ends cleanly first, ErrTooLarge after more whitespace
// than the bound, or the stream's error.
func (r *Reader) NextMessage() error {
	if err := r.skipSpace(); err != nil {
		return err
	}
	r.msg, r.parts = r.msg[:0], r.parts[:0]
	r.part = partState{reading: true}
	return nil
}

// partState is the progress of a message read in parts.
type partState struct {
	sc      scanner
	size    int  // bytes of the message read so far
	reading bool // between NextMessage and the message's end
	ended   bool // the window holds the message's last byte
}

// More returns the window of the message begun by NextMessage: the last
// keep bytes of the previous window (the part the caller has not consumed
// yet; 0 on the first call), followed by newly read bytes, at least as
// many as it keeps and at least partStep, or up to the message's end;
// end tells whether the window ends the message. A value longer than the
// window thus costs scanning it at most twice over, whatever its length;
// once the caller keeps more than half a piece (pieceSize), More returns
// the whole rest of the message. The window is valid until the next call.
//
// Its errors are ReadMessage's: io.ErrUnexpectedEOF, ErrNotObject,
// ErrTooLarge, ErrMalformed, ErrTooDeep (wrapped), a refused reservation,
// or the stream's error; after one the stream is out of step and must be
// closed. A message over the bound is ErrTooLarge even when memory for
// the window was refused first.
func (r *Reader) More(keep int) (window []byte, end bool, err error) {
	st := &r.part
	if keep < 0 || keep > len(r.msg) {
		return nil, false, fmt.Errorf("framing: keeping %d bytes of a window of %d", keep, len(r.msg))
	}
	r.msg = r.msg[:copy(r.msg, r.msg[len(r.msg)-keep:])]
	if st.ended {
		return r.msg, true, nil
	}
	if !st.reading {
		return nil, false, fmt.Errorf("framing: More without NextMessage")
	}
	want := keep + max(keep, partStep)
	if want > pieceSize {
		// A value of more than half a piece (metadata: a sketch, say)
		// is decoded whole, so the window would grow by copying, which
		// costs several times the value in garbage: read the rest of the
		// message as ReadMessage reads one, in pieces joined once.
		st.reading = false
		msg, err := r.readRest(&st.sc, st.size)
		if err != nil {
			return nil, false, err
		}
		st.ended = true
		return msg, true, nil
	}
	for len(r.msg) < want {
		chunk, peekErr := r.peekSome()
		if len(chunk) == 0 {
			st.reading = false
			if peekErr == io.EOF {
				return nil, false, io.ErrUnexpectedEOF
			}
			return nil, false, peekErr
		}
		n, done, err := st.sc.scan(chunk, st.size == 0)
		if err == nil && st.size+n > r.max {
			err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.max)
		}
		if err != nil {
			st.reading = false
			return nil, false, err
		}
		data := chunk[:n]
		r.discard(n)
		st.size += n
		if len(r.msg)+n > cap(r.msg) {
			if err := r.widen(len(r.msg) + n); err != nil {
				st.reading = false
				if done {
					return nil, false, err
				}
				return nil, false, r.refused(&st.sc, st.size, err)
			}
		}
		r.msg = append(r.msg, data...)
		if done {
			st.reading, st.ended = false, true
			return r.msg, true, nil
		}
	}
	return r.msg, false, nil
}

// widen grows the window so that it holds need bytes, reserving the
// memory first; it doubles, so that a window keeping a long value grows
// a few times, not at every read.
func (r *Reader) widen(need int) error {
	return r.growTo(min(max(2*cap(r.msg), need, 4096), max(r.max, need)))
}
