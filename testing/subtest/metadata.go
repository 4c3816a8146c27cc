package subtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/orderstore"
)

// MarshalsTo checks that each case's value V encodes to Want, byte for
// byte.
func MarshalsTo(t *testing.T, cases []struct {
	Name string
	V    any
	Want string
}) {
	t.Helper()
	for _, tc := range cases {
		got, err := json.Marshal(tc.V)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		if string(got) != tc.Want {
			t.Errorf("%s:\n got %s\nwant %s", tc.Name, got, tc.Want)
		}
	}
}

// FirstRequest checks GenerateFirstRequestMetadata of requesters made with
// newS: without a filter it is want, byte for byte, which starts
// {"orderfilter":null; with the default filter it is want with that
// filter, written as {"customOrderSchema":"{}",..., in place of null.
func FirstRequest[S Subprotocol](t *testing.T, newS New[S], want string) {
	t.Helper()
	const noFilter = `{"orderfilter":null`
	if !strings.HasPrefix(want, noFilter) {
		t.Fatalf("want %s does not start %s", want, noFilter)
	}
	first, err := newS(orderstore.NewMemory(), nil).GenerateFirstRequestMetadata()
	if err != nil || string(first) != want {
		t.Errorf("first request without a filter: %s, %v", first, err)
	}
	filter := DefaultFilter(t)
	filterJSON, _ := json.Marshal(filter)
	first, err = newS(orderstore.NewMemory(), filter).GenerateFirstRequestMetadata()
	if err != nil || !strings.HasPrefix(string(first), `{"orderfilter":{"customOrderSchema":"{}",`) ||
		string(first) != `{"orderfilter":`+string(filterJSON)+strings.TrimPrefix(want, noFilter) {
		t.Errorf("first request with a filter: %s, %v", first, err)
	}
}

// Parses checks that parse decodes each case's JSON In to a *T that same
// finds equal to its Want.
func Parses[T any](t *testing.T, parse func(json.RawMessage) (any, error), same func(got, want *T) bool, cases []struct {
	In   string
	Want T
}) {
	t.Helper()
	for _, tc := range cases {
		v, err := parse(json.RawMessage(tc.In))
		if err != nil {
			t.Errorf("%q: %v", tc.In, err)
			continue
		}
		md, ok := v.(*T)
		if !ok || !same(md, &tc.Want) {
			t.Errorf("%q: got %+v, want %+v", tc.In, v, tc.Want)
		}
	}
}

// ParseErrors checks that parse rejects each case's JSON In with an error
// that starts with prefix and contains the case's Want.
func ParseErrors(t *testing.T, parse func(json.RawMessage) (any, error), prefix string, cases []struct{ In, Want string }) {
	t.Helper()
	for _, tc := range cases {
		_, err := parse(json.RawMessage(tc.In))
		if err == nil || !strings.Contains(err.Error(), tc.Want) || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("%s: err = %v, want one starting %q and containing %q", tc.In, err, prefix, tc.Want)
		}
	}
}

// FuzzRoundTrip fuzzes parse from seeds: what parses must pass checks,
// encode, and parse again to metadata that same finds equal.
func FuzzRoundTrip[T any](f *testing.F, seeds []string, parse func(json.RawMessage) (any, error), same func(got, want *T) bool, checks ...func(*testing.T, *T)) {
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parse(data)
		if err != nil {
			return
		}
		md := v.(*T)
		for _, check := range checks {
			check(t, md)
		}
		again, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", md, err)
		}
		v2, err := parse(again)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", again, err)
		}
		if !same(v2.(*T), md) {
			t.Fatalf("round trip of %s: %+v, want %+v", again, v2, md)
		}
	})
}
