package filteredpagination

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
)

const zeroHashHex = "0x0000000000000000000000000000000000000000000000000000000000000000"

func defaultFilter(t testing.TB) *orderfilter.Filter {
	t.Helper()
	f, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestMetadataJSONIsByteExact(t *testing.T) {
	h := common.HexToHash("0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714")
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"first request, no filter", RequestMetadata{}, `{"orderfilter":null,"minOrderHash":"` + zeroHashHex + `"}`},
		{"request with filter", &RequestMetadata{OrderFilter: defaultFilter(t), MinOrderHash: h},
			`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"},` +
				`"minOrderHash":"0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"}`},
		{"response", ResponseMetadata{NextMinOrderHash: h}, `{"nextMinOrderHash":"0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"}`},
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
	if err != nil || string(first) != `{"orderfilter":null,"minOrderHash":"`+zeroHashHex+`"}` {
		t.Errorf("first request without a filter: %s, %v", first, err)
	}
	s = New(orderstore.NewMemory(), defaultFilter(t))
	first, _ = s.GenerateFirstRequestMetadata()
	if !strings.HasPrefix(string(first), `{"orderfilter":{"customOrderSchema":"{}",`) {
		t.Errorf("first request with a filter: %s", first)
	}
}

func TestParseRequestMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	filterJSON, _ := json.Marshal(defaultFilter(t))
	h := "0x00000000000000000000000000000000000000000000000000000000000000ff"
	for _, tc := range []struct {
		in         string
		wantHash   common.Hash
		wantFilter bool
	}{
		{``, common.Hash{}, false},
		{`null`, common.Hash{}, false},
		{` null `, common.Hash{}, false},
		{`{}`, common.Hash{}, false},
		{`{"orderfilter":null,"minOrderHash":"` + zeroHashHex + `"}`, common.Hash{}, false},
		{`{"orderfilter":null,"minOrderHash":"` + h + `"}`, common.Hash{31: 0xff}, false},
		{`{"minOrderHash":"` + strings.ToUpper(h[2:]) + `"}`, common.Hash{31: 0xff}, false},
		{`{"orderfilter":` + string(filterJSON) + `,"minOrderHash":"` + h + `"}`, common.Hash{31: 0xff}, true},
		{`{"minOrderHash":null,"somethingNew":[1,2]}`, common.Hash{}, false},
		// An older requester's first request, handed over whole when it has
		// no entry for this subprotocol (WIRE.md): from the beginning.
		{`{"metadata":[null]}`, common.Hash{}, false},
	} {
		v, err := s.ParseRequestMetadata(json.RawMessage(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		md := v.(*RequestMetadata)
		if md.MinOrderHash != tc.wantHash || (md.OrderFilter != nil) != tc.wantFilter {
			t.Errorf("%s: got %+v", tc.in, md)
		}
	}

	for _, tc := range []struct{ in, wantErr string }{
		{`[]`, "cannot unmarshal array"},
		{`"x"`, "cannot unmarshal string"},
		{`{"minOrderHash":"0x12"}`, `minOrderHash "0x12"`},
		{`{"minOrderHash":"0x` + strings.Repeat("zz", 32) + `"}`, "minOrderHash"},
		{`{"minOrderHash":"` + strings.Repeat("a", 500) + `"}`, "..."},
		{`{"minOrderHash":5}`, "cannot unmarshal number"},
		{`{"orderfilter":5}`, `"orderfilter"`},
		{`{"orderfilter":{"chainID":1}}`, `"orderfilter"`},
		{`{"orderfilter":`, "unexpected end"},
	} {
		_, err := s.ParseRequestMetadata(json.RawMessage(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "filteredpagination: ") {
			t.Errorf("%s: err = %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestParseRequestMetadataCompilesAFilterOnce(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	in := json.RawMessage(`{"orderfilter":{"customOrderSchema":"{\"required\":[\"makerFee\"]}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"},"minOrderHash":"` + zeroHashHex + `"}`)
	a, err := s.ParseRequestMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.ParseRequestMetadata(in)
	if a.(*RequestMetadata).OrderFilter != b.(*RequestMetadata).OrderFilter {
		t.Fatal("the same filter bytes compiled twice")
	}
}

func TestParseResponseMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	v, err := s.ParseResponseMetadata(json.RawMessage(`{"nextMinOrderHash":"0x00000000000000000000000000000000000000000000000000000000000000ff"}`))
	if err != nil || v.(*ResponseMetadata).NextMinOrderHash != (common.Hash{31: 0xff}) {
		t.Fatalf("got %+v, %v", v, err)
	}
	for _, in := range []string{``, `null`, `{}`} {
		v, err := s.ParseResponseMetadata(json.RawMessage(in))
		if err != nil || v.(*ResponseMetadata).NextMinOrderHash != (common.Hash{}) {
			t.Errorf("%q: %+v, %v", in, v, err)
		}
	}
	for _, in := range []string{`[]`, `{"nextMinOrderHash":"0x1"}`, `{"nextMinOrderHash":true}`, `{`} {
		if _, err := s.ParseResponseMetadata(json.RawMessage(in)); err == nil || !strings.HasPrefix(err.Error(), "filteredpagination: ") {
			t.Errorf("%s: err = %v", in, err)
		}
	}
}

func FuzzParseRequestMetadata(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `{}`, `{"orderfilter":null,"minOrderHash":"` + zeroHashHex + `"}`,
		`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"},"minOrderHash":"` + zeroHashHex + `"}`,
		`{"orderfilter":{"customOrderSchema":"{\"properties\":{\"makerFee\":{\"$ref\":\"/wholeNumber\"}}}","chainID":1,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}}`,
		`{"minOrderHash":"0x12"}`, `[1,2,3]`, `{"orderfilter":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	s := New(orderstore.NewMemory(), nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := s.ParseRequestMetadata(data)
		if err != nil {
			return
		}
		// What parses must survive a round trip unchanged.
		md := v.(*RequestMetadata)
		again, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", md, err)
		}
		v2, err := s.ParseRequestMetadata(again)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", again, err)
		}
		if v2.(*RequestMetadata).MinOrderHash != md.MinOrderHash || (v2.(*RequestMetadata).OrderFilter == nil) != (md.OrderFilter == nil) {
			t.Fatalf("round trip changed %s", again)
		}
	})
}

func FuzzParseResponseMetadata(f *testing.F) {
	for _, seed := range []string{``, `null`, `{}`, `{"nextMinOrderHash":"` + zeroHashHex + `"}`, `{"nextMinOrderHash":"0x1"}`, `[]`} {
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
