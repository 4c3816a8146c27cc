package ordinal

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/testing/subtest"
)

const someHashHex = "0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"

func TestMetadataJSONIsByteExact(t *testing.T) {
	subtest.MarshalsTo(t, []struct {
		Name string
		V    any
		Want string
	}{
		{"first request, no filter", RequestMetadata{}, `{"orderfilter":null,"page":0,"snapshotID":""}`},
		{"request with filter", &RequestMetadata{OrderFilter: subtest.DefaultFilter(t), Page: 7, SnapshotID: someHashHex},
			`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788"},` +
				`"page":7,"snapshotID":"` + someHashHex + `"}`},
		{"response", ResponseMetadata{Page: 3, SnapshotID: someHashHex}, `{"page":3,"snapshotID":"` + someHashHex + `"}`},
	})
	subtest.FirstRequest(t, New, `{"orderfilter":null,"page":0,"snapshotID":""}`)
}

// sameRequest compares the pages and snapshotIDs of two requests, and
// whether they have a filter.
func sameRequest(got, want *RequestMetadata) bool {
	return got.Page == want.Page && got.SnapshotID == want.SnapshotID && (got.OrderFilter == nil) == (want.OrderFilter == nil)
}

func sameResponse(got, want *ResponseMetadata) bool { return *got == *want }

func TestParseRequestMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	filter := subtest.DefaultFilter(t)
	filterJSON, _ := json.Marshal(filter)
	subtest.Parses(t, s.ParseRequestMetadata, sameRequest, []struct {
		In   string
		Want RequestMetadata
	}{
		{``, RequestMetadata{}},
		{`null`, RequestMetadata{}},
		{`{}`, RequestMetadata{}},
		{`{"orderfilter":null,"page":0,"snapshotID":""}`, RequestMetadata{}},
		{`{"page":12,"snapshotID":"` + someHashHex + `"}`, RequestMetadata{Page: 12, SnapshotID: someHashHex}},
		{`{"page":1,"snapshotID":"` + someHashHex[2:] + `"}`, RequestMetadata{Page: 1, SnapshotID: someHashHex[2:]}},
		{`{"orderfilter":` + string(filterJSON) + `,"page":2,"snapshotID":""}`, RequestMetadata{OrderFilter: filter, Page: 2}},
		{`{"page":null,"snapshotID":null,"extra":{}}`, RequestMetadata{}},
		// An older requester's first request, handed over whole when it has
		// no entry for this subprotocol (docs/protocol.md, "Negotiation"): from the beginning.
		{`{"metadata":[{"page":0}]}`, RequestMetadata{}},
	})

	subtest.ParseErrors(t, s.ParseRequestMetadata, "ordinal: ", []struct{ In, Want string }{
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
	})
}

func TestParseResponseMetadata(t *testing.T) {
	s := New(orderstore.NewMemory(), nil)
	subtest.Parses(t, s.ParseResponseMetadata, sameResponse, []struct {
		In   string
		Want ResponseMetadata
	}{
		{`{"page":4,"snapshotID":"` + someHashHex + `"}`, ResponseMetadata{Page: 4, SnapshotID: someHashHex}},
		{``, ResponseMetadata{}},
		{`null`, ResponseMetadata{}},
		{`{}`, ResponseMetadata{}},
		{`{"page":0,"snapshotID":""}`, ResponseMetadata{}},
	})
	subtest.ParseErrors(t, s.ParseResponseMetadata, "ordinal: ", []struct{ In, Want string }{
		{`[]`, ""}, {`{"page":-3}`, ""}, {`{"snapshotID":"snap-1"}`, ""}, {`{"page":true}`, ""}, {`{`, ""},
	})
}

func FuzzParseRequestMetadata(f *testing.F) {
	s := New(orderstore.NewMemory(), nil)
	subtest.FuzzRoundTrip(f, []string{
		``, `null`, `{}`, `{"orderfilter":null,"page":0,"snapshotID":""}`,
		`{"orderfilter":{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x48bacb9266a570d521063ef5dd96e61686dbe788"},"page":3,"snapshotID":"` + someHashHex + `"}`,
		`{"page":-1}`, `{"page":9223372036854775807}`, `{"snapshotID":"x"}`, `[{}]`,
	}, s.ParseRequestMetadata, sameRequest, func(t *testing.T, md *RequestMetadata) {
		if md.Page < 0 {
			t.Fatalf("negative page %d parsed", md.Page)
		}
	})
}

func FuzzParseResponseMetadata(f *testing.F) {
	s := New(orderstore.NewMemory(), nil)
	subtest.FuzzRoundTrip(f, []string{
		``, `null`, `{}`, `{"page":2,"snapshotID":"` + someHashHex + `"}`, `{"page":-2}`, `{"snapshotID":""}`,
	}, s.ParseResponseMetadata, sameResponse)
}
