package subtest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ordersync/ordersync"
)

// A Step is a response a requester takes in and what must come of it.
type Step struct {
	Name string
	Res  *ordersync.Response
	// Valid is how many of the response's orders are valid.
	Valid int
	// Err is the error, matched with errors.Is; nil is none.
	Err error
	// Next is the next request's metadata, compared with
	// reflect.DeepEqual; nil is no next request.
	Next any
	// NextJSON, unless empty, is Next on the wire, byte for byte.
	NextJSON string
	// Then, unless nil, checks more after the step.
	Then func(t *testing.T)
}

// RequesterTakes hands s the steps' responses in turn, as one sync, and
// checks what comes of each. It stops at the first step that goes wrong:
// the later ones follow from it.
func RequesterTakes(t *testing.T, s ordersync.Subprotocol, steps []Step) {
	t.Helper()
	for _, st := range steps {
		next, valid, err := s.HandleOrderSyncResponse(context.Background(), st.Res)
		if valid != st.Valid || !errors.Is(err, st.Err) {
			t.Fatalf("%s: valid %d, err %v; want %d, %v", st.Name, valid, err, st.Valid, st.Err)
		}
		if st.Next == nil {
			if next != nil {
				t.Fatalf("%s: next request %+v, want none", st.Name, next.Metadata)
			}
		} else if next == nil || !reflect.DeepEqual(next.Metadata, st.Next) {
			t.Fatalf("%s: next request %+v, want %+v", st.Name, next, st.Next)
		}
		if st.NextJSON != "" {
			if encoded, _ := json.Marshal(next.Metadata); string(encoded) != st.NextJSON {
				t.Fatalf("%s: next request on the wire %s, want %s", st.Name, encoded, st.NextJSON)
			}
		}
		if st.Then != nil {
			st.Then(t)
		}
	}
}
