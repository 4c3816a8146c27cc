package filteredpagination

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/testing/subtest"
)

const (
	zeroHashHex = "0x0000000000000000000000000000000000000000000000000000000000000000"
	someHashHex = "0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"
)

func TestMetadataJSONIsByteExact(t *testing.T) {
	h := common.HexToHash(someHashHex)
	subtest.MarshalsTo(t, []struct {
		Name string
		V    any
		Want string
	}{
		{"first request, no filter", RequestMetadata{}, `{"orderfilter":null,"minOrderHash":"` + zeroHashHex + `"}`},
		{"request with filter", &RequestMetadata{OrderFilter: subtest.DefaultFilter(t), MinOrderHash: h},
			`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788"},` +
				`"minOrderHash":"0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"}`},
		{"response", ResponseMetadata{NextMinOrderHash: h}, `{"nextMinOrderHash":"0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"}`},
	})
	subtest.FirstRequest(t, New, `{"orderfilter":null,"minOrderHash":"`+zeroHashHex+`"}`)
}

// sameRequest compares the cursors of two requests, and whether they have
// a filter.
func sameRequest(got, want *RequestMetadata) bool {
	return got.MinOrderHash == want.MinOrderHash && (got.OrderFilter == nil) == (want.OrderFilter == nil)
}

func sameResponse(got, want *ResponseMetadata) bool { return *got == *want }

func TestParseRequestMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	filter := subtest.DefaultFilter(t)
	filterJSON, _ := json.Marshal(filter)
	h := "0x00000000000000000000000000000000000000000000000000000000000000ff"
	subtest.Parses(t, s.ParseRequestMetadata, sameRequest, []struct {
		In   string
		Want RequestMetadata
	}{
		{``, RequestMetadata{}},
		{`null`, RequestMetadata{}},
		{` null `, RequestMetadata{}},
		{`{}`, RequestMetadata{}},
		{`{"orderfilter":null,"minOrderHash":"` + zeroHashHex + `"}`, RequestMetadata{}},
		{`{"orderfilter":null,"minOrderHash":"` + h + `"}`, RequestMetadata{MinOrderHash: common.Hash{31: 0xff}}},
		{`{"minOrderHash":"` + strings.ToUpper(h[2:]) + `"}`, RequestMetadata{MinOrderHash: common.Hash{31: 0xff}}},
		{`{"orderfilter":` + string(filterJSON) + `,"minOrderHash":"` + h + `"}`, RequestMetadata{OrderFilter: filter, MinOrderHash: common.Hash{31: 0xff}}},
		{`{"minOrderHash":null,"somethingNew":[1,2]}`, RequestMetadata{}},
		// An older requester's first request, handed over whole when it has
		// no entry for this subprotocol (docs/protocol.md, "Negotiation"): from the beginning.
		{`{"metadata":[null]}`, RequestMetadata{}},
	})

	subtest.ParseErrors(t, s.ParseRequestMetadata, "filteredpagination: ", []struct{ In, Want string }{
		{`[]`, "cannot unmarshal array"},
		{`"x"`, "cannot unmarshal string"},
		{`{"minOrderHash":"0x12"}`, `minOrderHash "0x12"`},
		{`{"minOrderHash":"0x` + strings.Repeat("zz", 32) + `"}`, "minOrderHash"},
		{`{"minOrderHash":"` + strings.Repeat("a", 500) + `"}`, "..."},
		{`{"minOrderHash":5}`, "cannot unmarshal number"},
		{`{"orderfilter":5}`, `"orderfilter"`},
		{`{"orderfilter":{"chainID":1}}`, `"orderfilter"`},
		{`{"orderfilter":`, "unexpected end"},
	})
}

func TestParseRequestMetadataCompilesAFilterOnce(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	in := json.RawMessage(`{"orderfilter":{"customOrderSchema":"{\"required\":[\"makerFee\"]}","chainID":1337,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788"},"minOrderHash":"` + zeroHashHex + `"}`)
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
	subtest.Parses(t, s.ParseResponseMetadata, sameResponse, []struct {
		In   string
		Want ResponseMetadata
	}{
		{`{"nextMinOrderHash":"0x00000000000000000000000000000000000000000000000000000000000000ff"}`, ResponseMetadata{NextMinOrderHash: common.Hash{31: 0xff}}},
		{``, ResponseMetadata{}},
		{`null`, ResponseMetadata{}},
		{`{}`, ResponseMetadata{}},
	})
	subtest.ParseErrors(t, s.ParseResponseMetadata, "filteredpagination: ", []struct{ In, Want string }{
		{`[]`, ""}, {`{"nextMinOrderHash":"0x1"}`, ""}, {`{"nextMinOrderHash":true}`, ""}, {`{`, ""},
	})
}

func FuzzParseRequestMetadata(f *testing.F) {
	s := New(orderstore.NewMemory(), nil)
	subtest.FuzzRoundTrip(f, []string{
		``, `null`, `{}`, `{"orderfilter":null,"minOrderHash":"` + zeroHashHex + `"}`,
		`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788"},"minOrderHash":"` + zeroHashHex + `"}`,
		`{"orderfilter":{"customOrderSchema":"{\"properties\":{\"makerFee\":{\"$ref\":\"/wholeNumber\"}}}","chainID":1,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788"}}`,
		`{"minOrderHash":"0x12"}`, `[1,2,3]`, `{"orderfilter":"x"}`,
	}, s.ParseRequestMetadata, sameRequest)
}

func FuzzParseResponseMetadata(f *testing.F) {
	s := New(orderstore.NewMemory(), nil)
	subtest.FuzzRoundTrip(f, []string{
		``, `null`, `{}`, `{"nextMinOrderHash":"` + zeroHashHex + `"}`, `{"nextMinOrderHash":"0x1"}`, `[]`,
	}, s.ParseResponseMetadata, sameResponse)
}
