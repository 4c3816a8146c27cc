package orderfilter

import (
	"bytes"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ordersync/ordersync/zeroex"
)

func TestMarshalJSONIsTheWireFormat(t *testing.T) {
	f, err := NewDefault(testChainID, testExchange)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"customOrderSchema":"{}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	// Orders that tell the filters below apart.
	orders := map[string]*zeroex.SignedOrder{"plain": testOrder(t)}
	fee := testOrder(t)
	fee.TakerFee = big.NewInt(5)
	orders["fee"] = fee
	other := testOrder(t)
	other.ChainID = big.NewInt(1)
	orders["other chain"] = other

	for _, schema := range []string{
		"{}",
		`{"properties":{"takerFee":{"enum":["0"]},"makerAssetData":{"pattern":"^0xf47261b0"}}}`,
		// Characters that JSON must escape, or that Go escapes for HTML.
		"{\"description\":\"<&>\\\"\\\\ \\u2028 \\n\",\"properties\":{\"takerFee\":{\"const\":\"5\"}}}",
	} {
		t.Run(schema, func(t *testing.T) {
			f := mustNew(t, schema)
			data, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			var back Filter
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
			if back.CustomOrderSchema() != schema || back.ChainID() != f.ChainID() || back.ExchangeAddress() != f.ExchangeAddress() {
				t.Fatalf("round trip changed the filter: %s", data)
			}
			again, err := json.Marshal(&back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) {
				t.Fatalf("bytes changed:\n%s\n%s", data, again)
			}
			for name, o := range orders {
				want, _ := f.MatchOrder(o)
				got, err := back.MatchOrder(o)
				if err != nil || got != want {
					t.Fatalf("order %q: %v, %v after the round trip, %v before", name, got, err, want)
				}
			}
		})
	}
}

func TestFilterAsRequestMetadataField(t *testing.T) {
	var meta struct {
		OrderFilter *Filter `json:"orderfilter"`
	}
	if err := json.Unmarshal([]byte(`{"orderfilter":null}`), &meta); err != nil || meta.OrderFilter != nil {
		t.Fatalf("null filter: %v, %v", meta.OrderFilter, err)
	}
	in := `{"orderfilter":{"customOrderSchema":"{\"required\":[\"salt\"]}","chainID":1337,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"}}`
	if err := json.Unmarshal([]byte(in), &meta); err != nil {
		t.Fatal(err)
	}
	mustMatch(t, meta.OrderFilter, testOrder(t), true)
	out, err := json.Marshal(meta)
	if err != nil || string(out) != in {
		t.Fatalf("Marshal = %s, %v; want %s", out, err, in)
	}
}

func TestUnmarshalJSONErrors(t *testing.T) {
	const addr = `"0x1dc4c1cefef38a777b15aa20260a54e584b16c48"`
	tests := []struct{ name, data, wantInError string }{
		{"not JSON", `{`, "filter JSON"},
		{"not an object", `[]`, "filter JSON"},
		{"trailing data", `{"customOrderSchema":"{}","chainID":1,"exchangeAddress":` + addr + `} {}`, "after the filter"},
		{"no schema", `{"chainID":1,"exchangeAddress":` + addr + `}`, `"customOrderSchema" missing`},
		{"null schema", `{"customOrderSchema":null,"chainID":1,"exchangeAddress":` + addr + `}`, `"customOrderSchema" missing`},
		{"no chain", `{"customOrderSchema":"{}","exchangeAddress":` + addr + `}`, `"chainID" missing`},
		{"fractional chain", `{"customOrderSchema":"{}","chainID":1.5,"exchangeAddress":` + addr + `}`, `"chainID"`},
		{"huge chain", `{"customOrderSchema":"{}","chainID":1e400,"exchangeAddress":` + addr + `}`, `"chainID"`},
		{"string chain", `{"customOrderSchema":"{}","chainID":"1","exchangeAddress":` + addr + `}`, "filter JSON"},
		{"negative chain", `{"customOrderSchema":"{}","chainID":-1,"exchangeAddress":` + addr + `}`, "negative"},
		{"no exchange", `{"customOrderSchema":"{}","chainID":1}`, `"exchangeAddress" missing`},
		{"short exchange", `{"customOrderSchema":"{}","chainID":1,"exchangeAddress":"0x1dc4"}`, `"exchangeAddress"`},
		{"exchange without 0x", `{"customOrderSchema":"{}","chainID":1,"exchangeAddress":"1dc4c1cefef38a777b15aa20260a54e584b16c48"}`, `"exchangeAddress"`},
		{"exchange not hex", `{"customOrderSchema":"{}","chainID":1,"exchangeAddress":"0x1dc4c1cefef38a777b15aa20260a54e584b16c4g"}`, `"exchangeAddress"`},
		{"schema does not compile", `{"customOrderSchema":"{\"minimum\":\"a\"}","chainID":1,"exchangeAddress":` + addr + `}`, "does not compile"},
		{"schema not JSON", `{"customOrderSchema":"{","chainID":1,"exchangeAddress":` + addr + `}`, "not JSON"},
		{"oversized", `{"customOrderSchema":"` + strings.Repeat(`\u0020`, maxFilterJSONSize/6+1) + `{}","chainID":1,"exchangeAddress":` + addr + `}`, "more than the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// json.Unmarshal checks the syntax itself before calling
			// UnmarshalJSON, so only Parse's message is ours throughout.
			var f Filter
			if err := json.Unmarshal([]byte(tt.data), &f); err == nil {
				t.Fatal("Unmarshal accepted it")
			}
			_, err := Parse([]byte(tt.data))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Fatalf("error %q does not contain %q", err, tt.wantInError)
			}
		})
	}
}

// A peer's filter must never make us fetch anything: a $ref to a live
// server on loopback is refused without a single request reaching it.
func TestRemoteRefIsRefusedWithoutFetching(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	for _, schema := range []string{
		`{"$ref":"` + srv.URL + `/schema.json"}`,
		`{"properties":{"salt":{"$ref":"` + srv.URL + `/wholeNumber"}}}`,
		`{"$schema":"` + srv.URL + `/meta.json"}`,
		`{"$id":"` + srv.URL + `/base.json","properties":{"salt":{"$ref":"/address"}}}`,
	} {
		_, err := New(testChainID, schema, testExchange)
		if err == nil || !strings.Contains(err.Error(), "only the built-in schemas") {
			t.Fatalf("New(%s) = %v, want a refusal", schema, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server got %d requests", n)
	}
}

func TestUnmarshalJSONLeavesTheCachedFilterAlone(t *testing.T) {
	data := filterJSON(4242)
	cached, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var f Filter
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"customOrderSchema":"true","chainID":1,"exchangeAddress":"0x0000000000000000000000000000000000000001"}`), &f); err != nil {
		t.Fatal(err)
	}
	if cached.ChainID() != testChainID || cached.CustomOrderSchema() == "true" {
		t.Fatalf("UnmarshalJSON into a copy changed the cached filter: %d %s", cached.ChainID(), cached.CustomOrderSchema())
	}
	var failed Filter = f
	if err := json.Unmarshal([]byte(`{"customOrderSchema":"{","chainID":1,"exchangeAddress":"0x0000000000000000000000000000000000000001"}`), &failed); err == nil {
		t.Fatal("accepted a broken schema")
	}
	if failed.CustomOrderSchema() != "true" {
		t.Fatal("a failed UnmarshalJSON changed the filter")
	}
}
