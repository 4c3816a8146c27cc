package meta

import (
	"encoding/json"
	"strings"
	"testing"
)

type testMetadata struct{ Page int }

func parseTestMetadata(raw json.RawMessage) (*testMetadata, error) {
	var md testMetadata
	return &md, json.Unmarshal(raw, &md)
}

func TestAs(t *testing.T) {
	given := &testMetadata{Page: 3}
	for name, tc := range map[string]struct {
		in   any
		want int
	}{
		"pointer":  {given, 3},
		"value":    {testMetadata{Page: 4}, 4},
		"nil":      {nil, 0},
		"nil *T":   {(*testMetadata)(nil), 0},
		"raw JSON": {json.RawMessage(`{"Page":5}`), 5},
	} {
		md, err := As("test", tc.in, parseTestMetadata)
		if err != nil || md == nil || md.Page != tc.want {
			t.Errorf("%s: %+v, %v; want page %d", name, md, err, tc.want)
		}
	}
	if md, _ := As("test", given, parseTestMetadata); md != given {
		t.Error("a *T is not returned as it is")
	}
	_, err := As("sub: request", "a string", parseTestMetadata)
	if err == nil || !strings.Contains(err.Error(), "sub: request: metadata of type string") {
		t.Errorf("wrong type: %v", err)
	}
}
