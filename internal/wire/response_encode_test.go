package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// pageMeta stands for a subprotocol's response metadata.
type pageMeta struct {
	Next int `json:"next"`
}

func TestEncodeResponseMatchesJSONMarshal(t *testing.T) {
	name := "/test/<&>" // characters json.Marshal escapes
	enc, err := NewResponseEncoder([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		orders   []*zeroex.SignedOrder
		complete bool
		metadata any
	}{
		{"orders", ordergen.Generate(ordergen.Options{Seed: 3, Count: 3}), false, pageMeta{Next: 3}},
		{"nil orders, complete", nil, true, map[string]string{"html": "<a&b>"}},
		{"empty orders", []*zeroex.SignedOrder{}, false, nil},
		{"nil order", []*zeroex.SignedOrder{nil}, false, json.RawMessage(` { "a" : 1 } `)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := enc.Append(nil, name, tc.orders, tc.complete, tc.metadata)
			if err != nil {
				t.Fatal(err)
			}
			meta, err := json.Marshal(tc.metadata)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(Response{
				Type: TypeResponse, Subprotocol: name, Orders: tc.orders,
				Complete: tc.complete, Metadata: meta,
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("hand-encoded:\n%s\njson.Marshal:\n%s", got, want)
			}
		})
	}
}

// With UncachedOrders the encoder keeps no encoding on the orders: an order
// changed after it was served (without ResetHash, which would drop a cache)
// is encoded as it is now; with the cache it is served as it was.
func TestEncodeResponseUncachedOrders(t *testing.T) {
	for _, uncached := range []bool{false, true} {
		enc, err := NewResponseEncoder([]string{"/test/a"})
		if err != nil {
			t.Fatal(err)
		}
		enc.UncachedOrders = uncached
		orders := ordergen.Generate(ordergen.Options{Seed: 4, Count: 2})
		before, err := enc.Append(nil, "/test/a", orders, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		orders[1].Salt.SetInt64(12345)
		after, err := enc.Append(nil, "/test/a", orders, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if changed := string(before) != string(after); changed != uncached {
			t.Errorf("UncachedOrders %v: second response changed %v, want %v", uncached, changed, uncached)
		}
		if uncached && !strings.Contains(string(after), `"salt":"12345"`) {
			t.Errorf("uncached response lacks the order's new salt:\n%s", after)
		}
	}
}

// A response is flushed in chunks of about ResponseChunk bytes, and bad
// metadata fails before anything is flushed.
func TestEncodeResponseFlushesInChunks(t *testing.T) {
	enc, err := NewResponseEncoder([]string{"/test/a"})
	if err != nil {
		t.Fatal(err)
	}
	orders := benchmarkOrders()
	var flushed [][]byte
	flush := func(b []byte) ([]byte, error) {
		flushed = append(flushed, append([]byte(nil), b...))
		return b[:0], nil
	}
	last, err := enc.Encode(nil, flush, "/test/a", orders, false, pageMeta{Next: 500})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := enc.Append(nil, "/test/a", orders, false, pageMeta{Next: 500})
	if err != nil {
		t.Fatal(err)
	}
	var joined []byte
	for _, piece := range flushed {
		if len(piece) < ResponseChunk {
			t.Errorf("flushed %d bytes, want at least %d", len(piece), ResponseChunk)
		}
		joined = append(joined, piece...)
	}
	if len(flushed) == 0 || string(append(joined, last...)) != string(whole) {
		t.Fatalf("%d pieces do not add up to the whole encoding", len(flushed))
	}

	flushed = nil
	if _, err := enc.Encode(nil, flush, "/test/a", orders, false, func() {}); err == nil || len(flushed) != 0 {
		t.Fatalf("unencodable metadata: %v after %d flushes; want an error and none", err, len(flushed))
	}
}

// BenchmarkAppendResponse encodes a 500-order response the way the provider
// does; BenchmarkMarshalResponse is json.Marshal of the same, for
// comparison.
func BenchmarkAppendResponse(b *testing.B) {
	enc, err := NewResponseEncoder([]string{"/test/a"})
	if err != nil {
		b.Fatal(err)
	}
	orders := benchmarkOrders()
	buf, _ := enc.Append(nil, "/test/a", orders, false, pageMeta{Next: 500}) // warm the orders' cached encodings
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if buf, err = enc.Append(buf[:0], "/test/a", orders, false, pageMeta{Next: 500}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalResponse(b *testing.B) {
	raw := Response{Type: TypeResponse, Subprotocol: "/test/a", Orders: benchmarkOrders(), Metadata: json.RawMessage(`{"next":500}`)}
	buf, _ := json.Marshal(raw)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := json.Marshal(raw); err != nil {
			b.Fatal(err)
		}
	}
}
