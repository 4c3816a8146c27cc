package framing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, input string, max int) ([]string, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(input), max, nil)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for {
		msg, err := r.ReadMessage()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, string(msg))
	}
}

func TestReadMessageSplitsObjects(t *testing.T) {
	input := " \n{\"a\":1}\n{\"s\":\"}{\\\"]\",\"n\":[{},[]]}\t\r\n {}"
	msgs, err := readAll(t, input, 1024)
	if err != io.EOF {
		t.Fatalf("final error %v, want io.EOF", err)
	}
	want := []string{`{"a":1}`, `{"s":"}{\"]","n":[{},[]]}`, `{}`}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages %q, want %q", len(msgs), msgs, want)
	}
	for i := range want {
		if msgs[i] != want[i] {
			t.Errorf("message %d = %q, want %q", i, msgs[i], want[i])
		}
	}
}

func TestReadMessageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		max         int
		want        error
	}{
		{"empty", "", 100, io.EOF},
		{"only space", " \n\t ", 100, io.EOF},
		{"array", `[1,2]`, 100, ErrNotObject},
		{"string", `"x"`, 100, ErrNotObject},
		{"cut short", `{"a":"b`, 100, io.ErrUnexpectedEOF},
		{"too large", `{"a":"` + strings.Repeat("x", 200) + `"}`, 100, ErrTooLarge},
		{"endless whitespace", strings.Repeat(" \n", 200) + "{}", 100, ErrTooLarge},
		{"too deep", strings.Repeat(`{"a":`, MaxDepth+1), 1 << 20, ErrTooDeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.input, tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// endless is a stream that never stops sending one huge JSON string.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n == 0 && len(p) > 0 {
		p[0] = '{'
		e.n++
		return 1, nil
	}
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadMessageStopsAtBound(t *testing.T) {
	src := &endless{}
	const max = 64 << 10
	r, err := NewReader(src, max, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadMessage(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	// At most one buffer's worth past the bound may have been read.
	if src.n > max+defaultBufferSize {
		t.Fatalf("read %d bytes of an over-size message bounded at %d", src.n, max)
	}
}

// endlessSpace is a stream of nothing but whitespace.
type endlessSpace struct{ n int64 }

func (e *endlessSpace) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadMessageStopsWhitespaceAtBound(t *testing.T) {
	src := &endlessSpace{}
	const max = 64 << 10 // a multiple of the buffer size, the worst case
	r, err := NewReader(src, max, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadMessage(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if src.n > max {
		t.Fatalf("read %d bytes of whitespace with a bound of %d", src.n, max)
	}
}

func TestReadMessageReservesMemory(t *testing.T) {
	var reserved int
	reserve := func(n int) error {
		if reserved+n > 8<<10 {
			return errors.New("over budget")
		}
		reserved += n
		return nil
	}
	big := `{"a":"` + strings.Repeat("x", 16<<10) + `"}`
	r, err := NewReader(strings.NewReader(`{"small":1}`+big), 1<<20, reserve)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadMessage(); err != nil {
		t.Fatalf("small message: %v", err)
	}
	if reserved == 0 {
		t.Fatal("reserve was never called")
	}
	if _, err := r.ReadMessage(); err == nil || !strings.Contains(err.Error(), "over budget") {
		t.Fatalf("big message: error %v, want the reservation's", err)
	}
}

func TestReadMessageReusesBuffer(t *testing.T) {
	input := strings.Repeat(`{"k":"0123456789"} `, 100)
	r, err := NewReader(strings.NewReader(input), 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message, want 0", allocs)
	}
}

func TestWriterMatchesEncoder(t *testing.T) {
	v := map[string]any{"type": "Request", "html": "<&>", "n": []int{1, 2}}
	var want bytes.Buffer
	if err := json.NewEncoder(&want).Encode(v); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	w := NewWriter(&got)
	if err := w.WriteValue(v); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMessageInPieces(func(buf []byte, _ func([]byte) ([]byte, error)) ([]byte, error) {
		return append(buf, want.Bytes()[:want.Len()-1]...), nil
	}); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String()+want.String() {
		t.Fatalf("wrote %q, want %q twice", got.String(), want.String())
	}
	if w.BytesWritten() != int64(got.Len()) {
		t.Errorf("BytesWritten %d, wrote %d", w.BytesWritten(), got.Len())
	}
}

// countingWriter records the size of each Write.
type countingWriter struct {
	bytes.Buffer
	writes []int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, len(p))
	return c.Buffer.Write(p)
}

// A message written in pieces arrives whole and in order, in one Write per
// piece, and each piece's buffer is reserved while it is written and given
// back after.
func TestWriterInPieces(t *testing.T) {
	var out countingWriter
	reserved, peak := 0, 0
	w := NewWriter(&out).WithMemory(
		func(n int) error { reserved += n; peak = max(peak, reserved); return nil },
		func(n int) { reserved -= n })
	err := w.WriteMessageInPieces(func(buf []byte, flush func([]byte) ([]byte, error)) ([]byte, error) {
		buf = append(buf, `{"a":"`...)
		for range 3 {
			buf = append(buf, bytes.Repeat([]byte("x"), 1000)...)
			var err error
			if buf, err = flush(buf); err != nil {
				return buf, err
			}
		}
		return append(buf, `"}`...), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"` + strings.Repeat("x", 3000) + `"}` + "\n"
	if out.String() != want {
		t.Fatalf("wrote %d bytes, not the message", out.Len())
	}
	if len(out.writes) != 4 || out.writes[0] != 1006 || out.writes[3] != 3 {
		t.Fatalf("writes %v, want one per piece: [1006 1000 1000 3]", out.writes)
	}
	if reserved != 0 || peak == 0 || peak > 4096 {
		t.Fatalf("reserved %d after the message (want 0), at most %d during it (want a piece's buffer)", reserved, peak)
	}

	refused := errors.New("no memory")
	w = NewWriter(&out).WithMemory(func(int) error { return refused }, func(int) { t.Error("released what was not reserved") })
	err = w.WriteMessageInPieces(func(buf []byte, _ func([]byte) ([]byte, error)) ([]byte, error) {
		return append(buf, "{}"...), nil
	})
	if !errors.Is(err, refused) {
		t.Fatalf("error %v, want the reservation's", err)
	}
}

// FuzzReadMessage checks that the Reader never panics, never returns more
// than its bound, returns only byte runs that start with '{' and end with
// '}', and, for a stream of valid JSON objects, returns exactly what
// json.Decoder finds.
func FuzzReadMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"Request","subprotocols":["/a"],"metadata":null}`,
		"{\"a\":\"\\\"}\"}\n{}\n",
		`{"a":[{"b":{}}]} {"c":"\u007d"}`,
		`[1]`, `{`, `}`, `"{"`, " \t\r\n", `{"a":"\\"}{"b":1}`,
	} {
		f.Add([]byte(seed))
	}
	const max = 512
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), max, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		for {
			msg, err := r.ReadMessage()
			if err != nil {
				break
			}
			if len(msg) > max || msg[0] != '{' || msg[len(msg)-1] != '}' {
				t.Fatalf("bad message %q", msg)
			}
			got = append(got, bytes.Clone(msg))
		}
		// The same stream arriving in small pieces, so that strings and
		// escapes are cut at every place, must give the same messages.
		piece := len(data)%7 + 1
		pr, err := NewReader(&pieceReader{data: data, piece: piece}, max, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			msg, err := pr.ReadMessage()
			if err != nil {
				if i < len(got) {
					t.Fatalf("in pieces of %d: message %d: %v; whole: %q", piece, i, err, got[i])
				}
				break
			}
			if i >= len(got) || !bytes.Equal(msg, got[i]) {
				t.Fatalf("in pieces of %d: message %d is %q; whole: %d messages", piece, i, msg, len(got))
			}
		}
		// Read in parts, keeping part of each window, the stream gives the
		// same messages.
		partsReader, err := NewReader(&pieceReader{data: data, piece: piece}, max, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			msg, err := readParts(partsReader, i%3)
			if err != nil {
				if i < len(got) {
					t.Fatalf("in parts: message %d: %v; whole: %q", i, err, got[i])
				}
				break
			}
			if i >= len(got) || !bytes.Equal(msg, got[i]) {
				t.Fatalf("in parts: message %d is %q; whole: %d messages", i, msg, len(got))
			}
		}
		// Compare with json.Decoder when the input is all valid objects
		// (and short enough that no run of whitespace can be over-size).
		if len(data) > max {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		var want [][]byte
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err == io.EOF {
				break
			} else if err != nil || raw[0] != '{' || len(raw) > max {
				return
			}
			want = append(want, raw)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d messages, json.Decoder %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("message %d: got %q, json.Decoder %q", i, got[i], want[i])
			}
		}
	})
}

// BenchmarkReadMessage reads 1 MiB messages, as a requester reads pages.
func BenchmarkReadMessage(b *testing.B) {
	msg := []byte(`{"type":"Response","orders":[` + strings.Repeat(`{"salt":"12345678901234567890","signature":"0x1b"},`, 20000) + `{}]}` + "\n")
	benchmarkRead(b, msg)
}

// benchmarkRead reads msg again and again with one Reader.
func benchmarkRead(b *testing.B, msg []byte) {
	src := bytes.NewReader(nil)
	r, _ := NewReader(src, 2<<20, nil)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for range b.N {
		src.Reset(msg)
		if _, err := r.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

// pieceReader returns data at most piece bytes per Read.
type pieceReader struct {
	data  []byte
	piece int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.piece)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// BenchmarkReadPage reads a page of 500 orders shaped as the network's
// are: mostly long hex strings.
func BenchmarkReadPage(b *testing.B) {
	order := `{"chainId":1337,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788","makerAddress":"0x6ecbe1db9ef729cbe972c83fb886247691fb6beb",` +
		`"makerAssetData":"0xf47261b0000000000000000000000000871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c","makerFeeAssetData":"0x",` +
		`"makerAssetAmount":"1000000000000000000","makerFee":"0","takerAddress":"0x0000000000000000000000000000000000000000",` +
		`"takerAssetData":"0xf47261b00000000000000000000000000b1ba0af832d7c05fd64161e0db78e85978e8082","takerFeeAssetData":"0x",` +
		`"takerAssetAmount":"2000000000000000000","takerFee":"0","senderAddress":"0x0000000000000000000000000000000000000000",` +
		`"feeRecipientAddress":"0x0000000000000000000000000000000000000000","expirationTimeSeconds":"1700000000",` +
		`"salt":"81853837487361385238451049125693047154432160290339547034451837632124106283223",` +
		`"signature":"0x1c53e8b2d5bce8d1bb2ad3d3c5d2e49e1fc3bb0d54ee4d8d1c2f0f5a9b2a5b4a3e1c4b5a6978899aabbccddeeff00112233445566778899aabbccddeeff0011223303"}`
	msg := []byte(`{"type":"Response","subprotocol":"/pagination-with-filter/version/1","orders":[` +
		strings.Repeat(order+",", 499) + order + `],"complete":false,"metadata":{"nextMinOrderHash":"0x00"}}` + "\n")
	benchmarkRead(b, msg)
}

// A message over the bound is ErrTooLarge even when the memory for it ran
// out first, so that the peer is scored for it whichever limit noticed;
// one within the bound is the reservation's error, not the peer's fault.
// Either way the Reader keeps no more than it reserved.
func TestReadMessageTooLargeWhicheverLimitFirst(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		tooBig  bool
		message string
	}{{"over the bound", 3 << 20, true, ""}, {"within the bound", 1536 << 10, false, "over budget"}} {
		t.Run(tc.name, func(t *testing.T) {
			reserved := 0
			reserve := func(n int) error {
				if reserved+n > 1<<20 { // the resource manager's limit, under the bound
					return errors.New("over budget")
				}
				reserved += n
				return nil
			}
			msg := `{"a":"` + strings.Repeat("x", tc.size) + `"}{"next":1}`
			r, err := NewReader(strings.NewReader(msg), 2<<20, reserve)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.ReadMessage()
			if got := errors.Is(err, ErrTooLarge); got != tc.tooBig || (tc.message != "" && !strings.Contains(err.Error(), tc.message)) {
				t.Fatalf("error %v, want ErrTooLarge %v", err, tc.tooBig)
			}
			if !tc.tooBig {
				// The stream is still in step: the next message reads.
				if next, err := r.ReadMessage(); err != nil || string(next) != `{"next":1}` {
					t.Fatalf("next message %q, %v", next, err)
				}
			}
			if cap(r.msg) > reserved {
				t.Fatalf("buffer of %d bytes, %d reserved", cap(r.msg), reserved)
			}
		})
	}
}

// A message larger than a piece reads whole, in pieces copied once, and
// reserves no more than its size and a piece.
func TestReadMessageInPieces(t *testing.T) {
	reserved := 0
	reserve := func(n int) error { reserved += n; return nil }
	big := `{"a":"` + strings.Repeat("0123456789", 500_000) + `"}`
	r, err := NewReader(strings.NewReader(big+` {"b":2}`), 8<<20, reserve)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadMessage()
	if err != nil || string(got) != big {
		t.Fatalf("read %d bytes, %v; want the %d of the message", len(got), err, len(big))
	}
	if reserved > len(big)+pieceSize+defaultBufferSize {
		t.Errorf("reserved %d bytes for a message of %d", reserved, len(big))
	}
	if next, err := r.ReadMessage(); err != nil || string(next) != `{"b":2}` {
		t.Fatalf("next message %q, %v", next, err)
	}
}

// readParts reads the next message in parts, consuming from each window
// all but 1/keepShare of it (all of it for 0), and returns the message.
func readParts(r *Reader, keepShare int) ([]byte, error) {
	if err := r.NextMessage(); err != nil {
		return nil, err
	}
	var msg []byte
	keep := 0
	for {
		window, end, err := r.More(keep)
		if err != nil {
			return nil, err
		}
		if len(window) <= keep && !end {
			return nil, fmt.Errorf("a window of %d bytes after keeping %d: nothing new", len(window), keep)
		}
		if !bytes.Equal(window[:keep], msg[len(msg)-keep:]) {
			return nil, errors.New("the window does not start with the bytes kept")
		}
		if end {
			return append(msg, window[keep:]...), nil
		}
		msg = append(msg, window[keep:]...)
		keep = 0
		if keepShare > 0 {
			keep = len(window) / keepShare
		}
	}
}

// A message read in parts arrives whole, windows keeping what the caller
// asks; the windows stay small whatever the message's size, and the bound
// holds as it does for ReadMessage, whichever limit notices first.
func TestReadMessageInParts(t *testing.T) {
	big := `{"a":"` + strings.Repeat("0123456789", 500_000) + `"}`
	reserved := 0
	reserve := func(n int) error { reserved += n; return nil }
	r, err := NewReader(strings.NewReader(big+` {"b":2} {"c":"`+strings.Repeat("x", 9<<20)+`"}`), 8<<20, reserve)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readParts(r, 0)
	if err != nil || string(got) != big {
		t.Fatalf("read %d bytes, %v; want the %d of the message", len(got), err, len(big))
	}
	if reserved > 4*partStep+defaultBufferSize {
		t.Errorf("reserved %d bytes for a message of %d consumed as it came", reserved, len(big))
	}
	if got, err := readParts(r, 2); err != nil || string(got) != `{"b":2}` {
		t.Fatalf("next message %q, %v", got, err)
	}
	if _, err := readParts(r, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("an over-size message: %v, want ErrTooLarge", err)
	}

	// A window that keeps all of itself doubles: a value longer than
	// the window costs a few reads, not one per step.
	r, err = NewReader(strings.NewReader(big), 8<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.NextMessage(); err != nil {
		t.Fatal(err)
	}
	calls, window, end := 0, []byte(nil), false
	for !end {
		calls++
		if window, end, err = r.More(len(window)); err != nil {
			t.Fatal(err)
		}
	}
	if string(window) != big || calls > 10 {
		t.Fatalf("%d calls for a window of %d bytes, the message %d", calls, len(window), len(big))
	}

	// Memory refused under the bound: ErrTooLarge for a message over it,
	// the refusal for one within it, with the stream still in step.
	for _, tc := range []struct {
		size   int
		tooBig bool
	}{{3 << 20, true}, {1536 << 10, false}} {
		reserved := 0
		reserve := func(n int) error {
			if reserved+n > 64<<10 {
				return errors.New("over budget")
			}
			reserved += n
			return nil
		}
		r, err := NewReader(strings.NewReader(`{"a":"`+strings.Repeat("x", tc.size)+`"}{"next":1}`), 2<<20, reserve)
		if err != nil {
			t.Fatal(err)
		}
		_, err = readParts(r, 1) // keeping every window whole
		if errors.Is(err, ErrTooLarge) != tc.tooBig || (!tc.tooBig && !strings.Contains(fmt.Sprint(err), "over budget")) {
			t.Fatalf("%d bytes: error %v, want ErrTooLarge %v", tc.size, err, tc.tooBig)
		}
		if !tc.tooBig {
			if next, err := readParts(r, 0); err != nil || string(next) != `{"next":1}` {
				t.Fatalf("next message %q, %v", next, err)
			}
		}
	}
}
