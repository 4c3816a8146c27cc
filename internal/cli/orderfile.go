package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/ordersync/ordersync/zeroex"
)

// MaxOrderSize bounds one order in an order file (a line of a JSON-lines
// file, an element of an array). A real signed order is about 1.3 KB; the
// bound only keeps a broken or hostile file from taking all memory.
const MaxOrderSize = 1 << 20

// ReadOrderFile reads every signed order in the file at path. The file is
// either JSON lines (one signed order per line; blank lines are skipped) or
// one JSON array of signed orders; the first byte that is not white space
// tells which. An error names the file, the line where the bad order starts
// and, from zeroex, the field, e.g.
//
//	orders.jsonl:17: zeroex: field "makerFee": not a decimal number: "12a"
//
// Signatures are not checked here (see verifyOrders).
func ReadOrderFile(path string) ([]*zeroex.SignedOrder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadOrders(f, path)
}

// ReadOrders is readOrderFile on any reader; name stands for the input in
// errors.
func ReadOrders(r io.Reader, name string) ([]*zeroex.SignedOrder, error) {
	var orders []*zeroex.SignedOrder
	err := ScanOrders(r, name, func(o *zeroex.SignedOrder) error {
		orders = append(orders, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return orders, nil
}

// ScanOrders decodes the orders of r (JSON lines or one JSON array) one at
// a time and hands each to fn; an error from fn stops the scan and is
// returned as it is.
func ScanOrders(r io.Reader, name string, fn func(*zeroex.SignedOrder) error) error {
	s := &orderScanner{r: bufio.NewReaderSize(r, 64<<10), name: name, line: 1}
	if bom, err := s.r.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		s.r.Discard(3) // A UTF-8 byte-order mark, as some editors write.
	}
	first, err := s.skipSpace()
	if err == io.EOF {
		return nil // An empty file holds no orders.
	}
	if err != nil {
		return s.errorf("%v", err)
	}
	switch first {
	case '{':
		return s.scanLines(fn)
	case '[':
		return s.scanArray(fn)
	default:
		return s.errorf("want JSON lines of signed orders or a JSON array, got %q", first)
	}
}

// orderScanner reads one order file and keeps the line number for errors.
type orderScanner struct {
	r    *bufio.Reader
	name string
	line int    // line of the next unread byte
	buf  []byte // the current order's bytes, reused
}

func (s *orderScanner) errorf(format string, args ...interface{}) error {
	return s.errorAt(s.line, fmt.Errorf(format, args...))
}

func (s *orderScanner) errorAt(line int, err error) error {
	return fmt.Errorf("%s:%d: %w", s.name, line, err)
}

// skipSpace reads past JSON white space and returns the next byte without
// consuming it.
func (s *orderScanner) skipSpace() (byte, error) {
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case '\n':
			s.line++
		case ' ', '\t', '\r':
		default:
			s.r.UnreadByte()
			return b, nil
		}
	}
}

// scanLines decodes a JSON-lines file: each non-blank line is one order.
func (s *orderScanner) scanLines(fn func(*zeroex.SignedOrder) error) error {
	for {
		line := s.line
		text, err := s.readLine()
		if err != nil && err != io.EOF {
			return s.errorAt(line, err)
		}
		if trimmed := bytes.TrimSpace(text); len(trimmed) > 0 {
			o := new(zeroex.SignedOrder)
			if derr := o.UnmarshalJSON(trimmed); derr != nil {
				return s.errorAt(line, derr)
			}
			if ferr := fn(o); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads up to and including the next newline, or to the end of
// the input, and fails once a line passes maxOrderSize without reading the
// rest of it into memory.
func (s *orderScanner) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(s.buf)+len(chunk) > MaxOrderSize {
			return nil, fmt.Errorf("line longer than %d bytes (one signed order per line, please)", MaxOrderSize)
		}
		s.buf = append(s.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return s.buf, err
		default:
			s.line++
			return s.buf, nil
		}
	}
}

// scanArray decodes a file that is one JSON array of orders.
func (s *orderScanner) scanArray(fn func(*zeroex.SignedOrder) error) error {
	s.r.ReadByte() // '['
	b, err := s.skipSpace()
	if err != nil {
		return s.errorf("unterminated JSON array")
	}
	if b == ']' {
		s.r.ReadByte()
		return s.expectEnd()
	}
	for index := 0; ; index++ {
		if b != '{' {
			return s.errorf("array element %d: want a signed order (a JSON object), got %q", index, b)
		}
		line := s.line
		obj, err := s.readObject()
		if err != nil {
			return s.errorAt(line, fmt.Errorf("array element %d: %w", index, err))
		}
		o := new(zeroex.SignedOrder)
		if err := o.UnmarshalJSON(obj); err != nil {
			return s.errorAt(line, err)
		}
		if err := fn(o); err != nil {
			return err
		}
		b, err = s.skipSpace()
		if err != nil {
			return s.errorf("unterminated JSON array")
		}
		s.r.ReadByte()
		switch b {
		case ']':
			return s.expectEnd()
		case ',':
		default:
			return s.errorf("after array element %d: want ',' or ']', got %q", index, b)
		}
		if b, err = s.skipSpace(); err != nil {
			return s.errorf("unterminated JSON array")
		}
	}
}

// expectEnd checks that only white space follows the array.
func (s *orderScanner) expectEnd() error {
	b, err := s.skipSpace()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return s.errorf("%v", err)
	}
	return s.errorf("unexpected %q after the JSON array", b)
}

// readObject reads one JSON object, from its '{' to the matching '}', by
// tracking nesting and strings; the order decoder checks the rest. It scans
// the reader's buffer a chunk at a time and fails as soon as the object
// passes maxOrderSize.
func (s *orderScanner) readObject() ([]byte, error) {
	s.buf = s.buf[:0]
	depth := 0
	inString, escaped := false, false
	for {
		if s.r.Buffered() == 0 {
			if _, err := s.r.Peek(1); err == io.EOF {
				return nil, errors.New("unterminated JSON object")
			} else if err != nil {
				return nil, err
			}
		}
		chunk, _ := s.r.Peek(s.r.Buffered())
		end := -1
	scan:
		for i, b := range chunk {
			if b == '\n' {
				s.line++ // also inside a string, where zeroex will reject it
			}
			switch {
			case inString:
				switch {
				case escaped:
					escaped = false
				case b == '\\':
					escaped = true
				case b == '"':
					inString = false
				}
			case b == '"':
				inString = true
			case b == '{' || b == '[':
				depth++
			case b == '}' || b == ']':
				depth--
				if depth == 0 {
					end = i + 1
					break scan
				}
			}
		}
		if end >= 0 {
			chunk = chunk[:end]
		}
		if len(s.buf)+len(chunk) > MaxOrderSize {
			return nil, fmt.Errorf("signed order longer than %d bytes", MaxOrderSize)
		}
		s.buf = append(s.buf, chunk...)
		s.r.Discard(len(chunk))
		if end >= 0 {
			return s.buf, nil
		}
	}
}

// OrderWriter writes signed orders as JSON lines through a buffer, in the
// encoding peers send (zeroex's SignedOrder.MarshalJSON).
//
// It encodes with AppendJSONUncached into one reused buffer: AppendJSON
// would keep each order's encoding on the order (about 1 KB each, ~95 MB for
// 100k orders held by sync's store), and a fresh buffer per order would be a
// kilobyte of garbage each, which lets the heap grow to twice the store
// before the collector reclaims it.
type OrderWriter struct {
	w   *bufio.Writer
	buf []byte // one order's encoding, reused
	n   int
}

// NewOrderWriter returns an OrderWriter onto w.
func NewOrderWriter(w io.Writer) *OrderWriter {
	return &OrderWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

// Write writes one order and a newline.
func (ow *OrderWriter) Write(o *zeroex.SignedOrder) error {
	enc, err := o.AppendJSONUncached(ow.buf[:0])
	if err != nil {
		return fmt.Errorf("order %d: %w", ow.n, err)
	}
	ow.buf = append(enc, '\n')
	if _, err := ow.w.Write(ow.buf); err != nil {
		return err // A bufio.Writer keeps its first error: this is it.
	}
	ow.n++
	return nil
}

// Count is the number of orders written so far.
func (ow *OrderWriter) Count() int { return ow.n }

// Flush writes out what is buffered.
func (ow *OrderWriter) Flush() error { return ow.w.Flush() }

// WriteOrderFile creates (or truncates) the file at path and writes the
// orders to it as JSON lines, which readOrderFile reads back. It returns how
// many orders it wrote.
func WriteOrderFile(path string, orders iter.Seq[*zeroex.SignedOrder]) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	n, err := WriteOrders(f, orders)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}

// WriteOrders writes the orders to w as JSON lines, through a buffer that
// it flushes at the end, and returns how many it wrote.
func WriteOrders(w io.Writer, orders iter.Seq[*zeroex.SignedOrder]) (int, error) {
	ow := NewOrderWriter(w)
	for o := range orders {
		if err := ow.Write(o); err != nil {
			return ow.Count(), err
		}
	}
	return ow.Count(), ow.Flush()
}
