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
		if errWant == nil && errors.Is(errGot, ErrTooManyOrders) && len(want.Orders) > fuzzMaxOrders {
			return // the one refusal json.Unmarshal does not make
		}
		if (errWant == nil) != (errGot == nil) {
			t.Fatalf("%q: json.Unmarshal error %v, DecodeResponse error %v", msg, errWant, errGot)
		}
		if errWant != nil {
			return
		}
		if got.Type != want.Type || got.Subprotocol != want.Subprotocol || got.Complete != want.Complete ||
			!bytes.Equal(got.Metadata, want.Metadata) || (got.Orders == nil) != (want.Orders == nil) || len(got.Orders) != len(want.Orders) {
			t.Fatalf("%q:\nDecodeResponse %+v\njson.Unmarshal %+v", msg, got, want)
		}
		for i := range want.Orders {
			if (got.Orders[i] == nil) != (want.Orders[i] == nil) || (want.Orders[i] != nil && !got.Orders[i].Equal(want.Orders[i])) {
				t.Fatalf("%q: order %d differs", msg, i)
			}
		}
	})
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
