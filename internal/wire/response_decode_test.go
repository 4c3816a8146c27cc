package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// FuzzDecodeResponse holds DecodeResponse to json.Unmarshal: the same
// messages accepted, with the same result.
func FuzzDecodeResponse(f *testing.F) {
	page, err := json.Marshal(Response{Type: TypeResponse, Subprotocol: "/test/a", Orders: ordergen.Generate(ordergen.Options{Seed: 7, Count: 2}), Metadata: json.RawMessage(`{"next":2}`)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(page)
	for _, seed := range []string{
		`{"type":"Response","subprotocol":"/test/a","orders":[],"complete":true,"metadata":null}`,
		`{"type":"Response","subprotocol":"/test/a","orders":null,"complete":false}`,
		`{"TYPE":"Response","Subprotocol":"/t\u0065st","orders":[null],"extra":{"a":[1,2,{"b":"}"}]},"complete":null}`,
		`{"type":5}`, `{"orders":{}}`, `{"complete":"true"}`, `{"metadata":{"a":}}`, `{}`, ` { } `,
		`{"type":"Response","type":"Request","orders":[],"orders":null}`,
		`{"metadata":[1,2,3],"x":null,"y":true,"z":-1.5e3}`,
		`{"type":"\ud800"}`, `{"a" : "b" , "c":[ ] }`, `{"orders":[ null , null ]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if lead := bytes.TrimLeft(msg, " \t\r\n"); len(lead) == 0 || lead[0] != '{' {
			// Not a message: framing refuses what does not start with '{'
			// (ErrNotObject) before DecodeResponse sees it, while
			// json.Unmarshal takes "null" into a Response as no change.
			// DecodeResponse must still refuse it without panicking.
			if err := DecodeResponse(msg, new(Response), fuzzMaxOrders); err == nil {
				t.Fatalf("%q: DecodeResponse accepted a message that is not an object", msg)
			}
			return
		}
		var want, got Response
		errWant := json.Unmarshal(msg, &want)
		errGot := DecodeResponse(msg, &got, fuzzMaxOrders)
		// The same message in windows of a few more bytes each, so that
		// values are cut at every place, decodes the same.
		var streamed Response
		step := len(msg)%7 + 1
		errStreamed := DecodeResponseFrom(windows(msg, step), &streamed, fuzzMaxOrders)
		if (errStreamed == nil) != (errGot == nil) || errors.Is(errStreamed, ErrTooManyOrders) != errors.Is(errGot, ErrTooManyOrders) {
			t.Fatalf("%q: DecodeResponse error %v; in windows of %d or more new bytes: %v", msg, errGot, step, errStreamed)
		}
		if errGot == nil && !sameResponse(&streamed, &got) {
			t.Fatalf("%q: in windows of %d or more new bytes %+v, whole %+v", msg, step, streamed, got)
		}
		if errWant == nil && errors.Is(errGot, ErrTooManyOrders) && len(want.Orders) > fuzzMaxOrders {
			return // the one refusal json.Unmarshal does not make
		}
		if (errWant == nil) != (errGot == nil) {
			t.Fatalf("%q: json.Unmarshal error %v, DecodeResponse error %v", msg, errWant, errGot)
		}
		if errWant != nil {
			return
		}
		if !sameResponse(&got, &want) {
			t.Fatalf("%q:\nDecodeResponse %+v\njson.Unmarshal %+v", msg, got, want)
		}
	})
}

// sameResponse says whether a and b hold the same response.
func sameResponse(a, b *Response) bool {
	if a.Type != b.Type || a.Subprotocol != b.Subprotocol || a.Complete != b.Complete ||
		!bytes.Equal(a.Metadata, b.Metadata) || (a.Orders == nil) != (b.Orders == nil) || len(a.Orders) != len(b.Orders) {
		return false
	}
	for i := range a.Orders {
		if (a.Orders[i] == nil) != (b.Orders[i] == nil) || (a.Orders[i] != nil && !a.Orders[i].Equal(b.Orders[i])) {
			return false
		}
	}
	return true
}

// windows is a Source of msg that adds step bytes to each window, or as
// many as it keeps if that is more (as framing.Reader does, so that a
// value cut again and again is not decoded again at every byte), in one
// buffer that it reuses as framing.Reader does, so that a decoder that
// kept a slice of an old window would read the new one's bytes.
func windows(msg []byte, step int) Source {
	var buf []byte
	return func(keep int) ([]byte, bool, error) {
		buf = buf[:copy(buf, buf[len(buf)-keep:])]
		n := min(max(step, keep), len(msg))
		buf, msg = append(buf, msg[:n]...), msg[n:]
		return buf, len(msg) == 0, nil
	}
}

// maxOrdersPerResponse is ordersync.DefaultMaxOrdersPerResponse.
const maxOrdersPerResponse = 20_000

var (
	benchOrdersOnce sync.Once
	benchOrders     []*zeroex.SignedOrder
)

// benchmarkOrders are 500 signed orders, made once per process.
func benchmarkOrders() []*zeroex.SignedOrder {
	benchOrdersOnce.Do(func() { benchOrders = ordergen.Generate(ordergen.Options{Seed: 99, Count: 500}) })
	return benchOrders
}

// fuzzMaxOrders is low so that the fuzzer reaches the order bound.
const fuzzMaxOrders = 8

// A response of more orders than the bound is refused before it makes an
// entry past the bound, whatever the orders are.
func TestDecodeResponseBoundsOrders(t *testing.T) {
	msg := []byte(`{"type":"Response","orders":[null` + strings.Repeat(",null", 1000) + `]}`)
	var raw Response
	allocs := testing.AllocsPerRun(5, func() {
		raw = Response{}
		if err := DecodeResponse(msg, &raw, 10); !errors.Is(err, ErrTooManyOrders) {
			t.Fatalf("DecodeResponse: %v, want ErrTooManyOrders", err)
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations for a refused response; the entries past the bound must not be made", allocs)
	}
	if err := DecodeResponse(msg, &raw, 1001); err != nil || len(raw.Orders) != 1001 {
		t.Fatalf("at the bound: %v, %d orders; want 1001", err, len(raw.Orders))
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	msg, err := json.Marshal(Response{Type: TypeResponse, Subprotocol: "/test/a", Orders: benchmarkOrders()[:500], Metadata: json.RawMessage(`{"next":500}`)})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte, *Response) error
	}{
		{"DecodeResponse", func(m []byte, r *Response) error { return DecodeResponse(m, r, maxOrdersPerResponse) }},
		{"json.Unmarshal", func(m []byte, r *Response) error { return json.Unmarshal(m, r) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for range b.N {
				var r Response
				if err := bc.decode(msg, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// DecodeResponseFrom decodes a page of real orders cut into windows at
// every size as DecodeResponse decodes it whole, and a source's error wins
// over a decoding error, found before it or not: the rest of a message
// that did not decode is read, so that a message too large fails as one.
func TestDecodeResponseFrom(t *testing.T) {
	page, err := json.Marshal(Response{Type: TypeResponse, Subprotocol: "/test/a", Orders: benchmarkOrders()[:20], Metadata: json.RawMessage(`{"next":20}`)})
	if err != nil {
		t.Fatal(err)
	}
	var whole Response
	if err := DecodeResponse(page, &whole, maxOrdersPerResponse); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{1, 2, 3, 100, 1000, 4096, len(page)} {
		var got Response
		if err := DecodeResponseFrom(windows(page, step), &got, maxOrdersPerResponse); err != nil || !sameResponse(&got, &whole) {
			t.Fatalf("in windows of %d more bytes: %v, or a different response", step, err)
		}
	}

	tooLarge := errors.New("too large")
	bad := []byte(`{"complete":"yes","orders":[` + strings.Repeat("null,", 100) + `null]}`)
	next, reads := windows(bad, 30), 0
	src := func(keep int) ([]byte, bool, error) {
		if reads++; reads == 5 {
			return nil, false, tooLarge
		}
		return next(keep)
	}
	if err := DecodeResponseFrom(src, new(Response), maxOrdersPerResponse); err != tooLarge {
		t.Fatalf("a bad message that is also too large: %v, want the source's error", err)
	}
	if err := DecodeResponseFrom(windows(bad, 10), new(Response), maxOrdersPerResponse); err == nil || !strings.Contains(err.Error(), "complete") {
		t.Fatalf("a bad message: %v, want the decoding error", err)
	}
	stuck := func(keep int) ([]byte, bool, error) { return bad[5-keep : 5], false, nil } // nothing after bad[:5]
	if err := DecodeResponseFrom(stuck, new(Response), maxOrdersPerResponse); err == nil || !strings.Contains(err.Error(), "nothing new") {
		t.Fatalf("a source that gives nothing new: %v", err)
	}
}
