package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// The requests a requester writes, as the network's nodes spell them.
func TestRequestsOnTheWire(t *testing.T) {
	first, err := FirstRequest([]string{"/a", "/b"}, []json.RawMessage{json.RawMessage(`{"minOrderHash":"0x00"}`), nil})
	if err != nil {
		t.Fatal(err)
	}
	later, err := LaterRequest("/b", map[string]int{"offset": 2})
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := LaterRequest("/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req  *Request
		want string
	}{
		{first, `{"type":"Request","subprotocols":["/a","/b"],"metadata":{"metadata":[{"minOrderHash":"0x00"},null]}}`},
		{later, `{"type":"Request","subprotocols":["/b"],"metadata":{"offset":2}}`},
		{resumed, `{"type":"Request","subprotocols":["/b"],"metadata":null}`},
	} {
		got, err := json.Marshal(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
	if _, err := LaterRequest("/b", func() {}); err == nil || !strings.Contains(err.Error(), "/b request metadata") {
		t.Errorf("unencodable metadata: %v; want an error naming the subprotocol", err)
	}
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct{ msg, err string }{
		{`{"type":"Response","subprotocols":["/a"]}`, `request type "Response", want "Request"`},
		{`{"type":"Request",]`, "request: "},
		{`{"type":"Request","subprotocols":["/x"` + strings.Repeat(`,"/x"`, MaxOfferedSubprotocols) + `]}`, "request offers 33 subprotocols"},
		{`{"type":"Request","subprotocols":["/` + strings.Repeat("x", MaxSubprotocolNameBytes) + `"]}`, "request's subprotocol 0 is 257 bytes long"},
	} {
		if _, err := DecodeRequest([]byte(tc.msg)); err == nil || !strings.HasPrefix(err.Error(), tc.err) {
			t.Errorf("%.60s: %v; want %q", tc.msg, err, tc.err)
		}
	}
	req, err := DecodeRequest([]byte(`{"type":"Request","subprotocols":["/x","/a"],"metadata":{"metadata":[1,{"offset":2}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(req.FirstMetadata(1)); got != `{"offset":2}` {
		t.Errorf("first metadata of /a: %s", got)
	}
	if _, err := req.LaterMetadata("/a"); err == nil {
		t.Error("a request naming two subprotocols taken as a later one")
	}
	for msg, want := range map[string]string{
		`{"type":"Request","subprotocols":["/x","/a"]}`:                             "null",
		`{"type":"Request","subprotocols":["/x","/a"],"metadata":null}`:             "null",
		`{"type":"Request","subprotocols":["/x","/a"],"metadata":{"offset":3}}`:     `{"offset":3}`,
		`{"type":"Request","subprotocols":["/x","/a"],"metadata":{"metadata":[1]}}`: `{"metadata":[1]}`,
	} {
		req, err := DecodeRequest([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(req.FirstMetadata(1)); got != want {
			t.Errorf("%s: first metadata of entry 1 is %s, want %s", msg, got, want)
		}
	}
	req, _ = DecodeRequest([]byte(`{"type":"Request","subprotocols":["/a"]}`))
	if m, err := req.LaterMetadata("/a"); err != nil || string(m) != "null" {
		t.Errorf("later metadata %s, %v; want null", m, err)
	}
}
