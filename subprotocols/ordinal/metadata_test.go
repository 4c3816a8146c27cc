package ordinal

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
)

const someHashHex = "0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"

func defaultFilter(t testing.TB) *orderfilter.Filter {
	t.Helper()
	f, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMetadataJSONIsByteExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"first request, no filter", RequestMetadata{}, `{"orderfilter":null,"page":0,"snapshotID":""}`},
		{"request with filter", &RequestMetadata{OrderFilter: defaultFilter(t), Page: 7, SnapshotID: someHashHex},
			`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"},` +
				`"page":7,"snapshotID":"` + someHashHex + `"}`},
		{"response", ResponseMetadata{Page: 3, SnapshotID: someHashHex}, `{"page":3,"snapshotID":"` + someHashHex + `"}`},
	} {
		got, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}

	s := New(orderstore.NewMemory(), nil)
	first, err := s.GenerateFirstRequestMetadata()
	if err != nil || string(first) != `{"orderfilter":null,"page":0,"snapshotID":""}` {
		t.Errorf("first request without a filter: %s, %v", first, err)
	}
	s = New(orderstore.NewMemory(), defaultFilter(t))
	first, _ = s.GenerateFirstRequestMetadata()
	if !strings.HasPrefix(string(first), `{"orderfilter":{"customOrderSchema":"{}",`) || !strings.HasSuffix(string(first), `,"page":0,"snapshotID":""}`) {
		t.Errorf("first request with a filter: %s", first)
	}
}

func TestParseRequestMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	filterJSON, _ := json.Marshal(defaultFilter(t))
	for _, tc := range []struct {
		in         string
		want       RequestMetadata
		wantFilter bool
	}{
		{``, RequestMetadata{}, false},
		{`null`, RequestMetadata{}, false},
		{`{}`, RequestMetadata{}, false},
		{`{"orderfilter":null,"page":0,"snapshotID":""}`, RequestMetadata{}, false},
		{`{"page":12,"snapshotID":"` + someHashHex + `"}`, RequestMetadata{Page: 12, SnapshotID: someHashHex}, false},
		{`{"page":1,"snapshotID":"` + someHashHex[2:] + `"}`, RequestMetadata{Page: 1, SnapshotID: someHashHex[2:]}, false},
		{`{"orderfilter":` + string(filterJSON) + `,"page":2,"snapshotID":""}`, RequestMetadata{Page: 2}, true},
		{`{"page":null,"snapshotID":null,"extra":{}}`, RequestMetadata{}, false},
		// An older requester's first request, handed over whole when it has
		// no entry for this subprotocol (WIRE.md): from the beginning.
		{`{"metadata":[{"page":0}]}`, RequestMetadata{}, false},
	} {
		v, err := s.ParseRequestMetadata(json.RawMessage(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		md := v.(*RequestMetadata)
		if md.Page != tc.want.Page || md.SnapshotID != tc.want.SnapshotID || (md.OrderFilter != nil) != tc.wantFilter {
			t.Errorf("%s: got %+v", tc.in, md)
		}
	}

	for _, tc := range []struct{ in, wantErr string }{
		{`[]`, "cannot unmarshal array"},
		{`{"page":-1}`, `"page": -1 is negative`},
		{`{"page":1.5}`, "cannot unmarshal number 1.5"},
		{`{"page":"1"}`, "cannot unmarshal string"},
		{`{"page":1e40}`, "cannot unmarshal number"},
		{`{"snapshotID":"abc"}`, `snapshotID "abc"`},
		{`{"snapshotID":"0x` + strings.Repeat("g", 64) + `"}`, "snapshotID"},
		{`{"snapshotID":5}`, "cannot unmarshal number"},
		{`{"orderfilter":[]}`, `"orderfilter"`},
		{`{`, "unexpected end"},
	} {
		_, err := s.ParseRequestMetadata(json.RawMessage(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "ordinal: ") {
			t.Errorf("%s: err = %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestParseResponseMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	v, err := s.ParseResponseMetadata(json.RawMessage(`{"page":4,"snapshotID":"` + someHashHex + `"}`))
	if err != nil || *v.(*ResponseMetadata) != (ResponseMetadata{Page: 4, SnapshotID: someHashHex}) {
		t.Fatalf("got %+v, %v", v, err)
	}
	for _, in := range []string{``, `null`, `{}`, `{"page":0,"snapshotID":""}`} {
		v, err := s.ParseResponseMetadata(json.RawMessage(in))
		if err != nil || *v.(*ResponseMetadata) != (ResponseMetadata{}) {
			t.Errorf("%q: %+v, %v", in, v, err)
		}
	}
	for _, in := range []string{`[]`, `{"page":-3}`, `{"snapshotID":"snap-1"}`, `{"page":true}`, `{`} {
		if _, err := s.ParseResponseMetadata(json.RawMessage(in)); err == nil || !strings.HasPrefix(err.Error(), "ordinal: ") {
			t.Errorf("%s: err = %v", in, err)
		}
	}
}

func FuzzParseRequestMetadata(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `{}`, `{"orderfilter":null,"page":0,"snapshotID":""}`,
		`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"},"page":3,"snapshotID":"` + someHashHex + `"}`,
		`{"page":-1}`, `{"page":9223372036854775807}`, `{"snapshotID":"x"}`, `[{}]`,
	} {
		f.Add([]byte(seed))
	}
	s := New(orderstore.NewMemory(), nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := s.ParseRequestMetadata(data)
		if err != nil {
			return
		}
		md := v.(*RequestMetadata)
		if md.Page < 0 {
			t.Fatalf("negative page %d parsed", md.Page)
		}
		again, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", md, err)
		}
		v2, err := s.ParseRequestMetadata(again)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", again, err)
		}
		md2 := v2.(*RequestMetadata)
		if md2.Page != md.Page || md2.SnapshotID != md.SnapshotID || (md2.OrderFilter == nil) != (md.OrderFilter == nil) {
			t.Fatalf("round trip changed %s", again)
		}
	})
}

func FuzzParseResponseMetadata(f *testing.F) {
	for _, seed := range []string{``, `null`, `{}`, `{"page":2,"snapshotID":"` + someHashHex + `"}`, `{"page":-2}`, `{"snapshotID":""}`} {
		f.Add([]byte(seed))
	}
	s := New(orderstore.NewMemory(), nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := s.ParseResponseMetadata(data)
		if err != nil {
			return
		}
		md := v.(*ResponseMetadata)
		again, _ := json.Marshal(md)
		v2, err := s.ParseResponseMetadata(again)
		if err != nil || *v2.(*ResponseMetadata) != *md {
			t.Fatalf("round trip of %s: %+v, %v", again, v2, err)
		}
	})
}
