package ordersync

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/internal/wire"
	"github.com/ordersync/ordersync/internal/wire/framing"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/testing/testnet"
)

// TestOldStyleFirstRequest speaks to a provider as requesters before
// version 9 did: several subprotocols and metadata null or absent.
func TestOldStyleFirstRequest(t *testing.T) {
	for _, req := range []string{
		`{"type":"Request","subprotocols":["/test/x","/test/a"],"metadata":null}`,
		`{"type":"Request","subprotocols":["/test/x","/test/a"]}`,
		// A wrapped list too short for the chosen index: passed as it came.
		`{"type":"Request","subprotocols":["/test/x","/test/a"],"metadata":null}` + "\n\t ",
	} {
		hosts := testnet.New(t, 2)
		provider := newPager("/test/a", orders(4, 3), 2)
		newService(t, hosts[1], []Subprotocol{provider}, testOptions(t, 1)...)
		s := rawStream(t, hosts[0], hosts[1].ID())
		if _, err := io.WriteString(s, req); err != nil {
			t.Fatal(err)
		}
		r, _ := framing.NewReader(s, 1<<20, nil)
		msg, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("request %s: reading the response: %v", req, err)
		}
		var resp rawResponse
		if err := json.Unmarshal(msg, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Type != TypeResponse || resp.Subprotocol != "/test/a" || len(resp.Orders) != 2 || resp.Complete {
			t.Fatalf("response %s", msg)
		}
		if got := provider.offsetsAsked(); len(got) != 1 || got[0] != 0 {
			t.Fatalf("provider asked for offsets %v, want [0]", got)
		}
		// A later request names only the chosen subprotocol.
		if _, err := io.WriteString(s, `{"type":"Request","subprotocols":["/test/a"],"metadata":{"offset":2}}`); err != nil {
			t.Fatal(err)
		}
		if msg, err = r.ReadMessage(); err != nil {
			t.Fatalf("second response: %v", err)
		}
		if err := json.Unmarshal(msg, &resp); err != nil || len(resp.Orders) != 1 {
			t.Fatalf("second response %s (%v)", msg, err)
		}
	}
}

func TestProviderRejectsInvalidRequests(t *testing.T) {
	for _, tc := range []struct{ name, req string }{
		{"wrong type", `{"type":"Response","subprotocols":["/test/a"],"metadata":null}`},
		{"not JSON", `{"type":"Request",]`},
		{"bad metadata", `{"type":"Request","subprotocols":["/test/a"],"metadata":{"offset":"x"}}`},
		{"not an object", `["Request"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(4, 3), 2)}, testOptions(t, 1)...)
			s := rawStream(t, hosts[0], hosts[1].ID())
			if _, err := io.WriteString(s, tc.req); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadAll(s); err == nil {
				t.Log("stream closed rather than reset")
			}
			if v, _ := tag(hosts[1], hosts[0].ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
				t.Errorf("invalid-message tag %d, want %d", v, peerscore.InvalidMessageDelta)
			}
		})
	}
}

func TestProviderRejectsSwitchingSubprotocol(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(4, 3), 2), newPager("/test/b", nil, 2)}, testOptions(t, 1)...)
	s := rawStream(t, hosts[0], hosts[1].ID())
	r, _ := framing.NewReader(s, 1<<20, nil)
	if _, err := io.WriteString(s, `{"type":"Request","subprotocols":["/test/a"],"metadata":null}`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(s, `{"type":"Request","subprotocols":["/test/b"],"metadata":null}`); err != nil {
		t.Fatal(err)
	}
	if msg, err := r.ReadMessage(); err == nil {
		t.Fatalf("provider answered a request for another subprotocol: %s", msg)
	}
	if v, _ := tag(hosts[1], hosts[0].ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("invalid-message tag %d, want %d", v, peerscore.InvalidMessageDelta)
	}
}

// FuzzHandleRequest feeds arbitrary bytes to the provider's request parsing
// and negotiation, as the first request of a stream and as a later one.
// A request's list of subprotocols ends up in errors and logs: a long list
// or a long name is an invalid message, not a huge log line.
func TestOversizeSubprotocolListIsInvalid(t *testing.T) {
	h := testnet.NewHost(t)
	s := newService(t, h, []Subprotocol{newPager("/test/a", nil, 1)}, testOptions(t, 1)...)
	many := `"/x"` + strings.Repeat(`,"/x"`, wire.MaxOfferedSubprotocols)
	long := `"/` + strings.Repeat("x", wire.MaxSubprotocolNameBytes) + `"`
	for name, list := range map[string]string{"many": many, "long": long} {
		msg := []byte(`{"type":"Request","subprotocols":[` + list + `],"metadata":null}`)
		_, _, err := s.parseRequest(msg, nil, h.ID())
		if !errors.Is(err, ErrInvalidMessage) || len(err.Error()) > 200 {
			t.Errorf("%s: %v; want a short ErrInvalidMessage", name, err)
		}
	}
	// Metadata of a million entries is not a million allocations.
	huge := []byte(`{"type":"Request","subprotocols":["/x","/test/a"],"metadata":{"metadata":[0,{"offset":1}` + strings.Repeat(",0", 1<<20) + `]}}`)
	allocs := testing.AllocsPerRun(3, func() {
		if _, _, err := s.parseRequest(huge, nil, h.ID()); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1000 {
		t.Errorf("%v allocations to pick entry 1 of a million", allocs)
	}

	// At the bounds, the request negotiates.
	atBound := `"/x"` + strings.Repeat(`,"/x"`, wire.MaxOfferedSubprotocols-2) + `,"/test/a"`
	msg := []byte(`{"type":"Request","subprotocols":[` + atBound + `],"metadata":null}`)
	if sub, _, err := s.parseRequest(msg, nil, h.ID()); err != nil || sub.Name() != "/test/a" {
		t.Errorf("%d subprotocols: %v, %v; want /test/a", wire.MaxOfferedSubprotocols, sub, err)
	}
}

func FuzzHandleRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"Request","subprotocols":["/test/a","/test/b"],"metadata":{"metadata":[{"offset":1},{"offset":2}]}}`,
		`{"type":"Request","subprotocols":["/test/b"],"metadata":{"offset":5,"from":"x"}}`,
		`{"type":"Request","subprotocols":["/test/x","/test/a"],"metadata":null}`,
		`{"type":"Request","subprotocols":["/test/a"]}`,
		`{"type":"Request","subprotocols":[],"metadata":{"metadata":[]}}`,
		`{"type":"Response"}`, `{}`, `null`, `{"type":"Request","subprotocols":null,"metadata":[1]}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	h := testnet.NewHost(f)
	a, b := newPager("/test/a", nil, 1), newPager("/test/b", nil, 1)
	s := newService(f, h, []Subprotocol{a, b}, testOptions(f, 1)...)
	f.Fuzz(func(t *testing.T, msg []byte, later bool) {
		var chosen Subprotocol
		if later {
			chosen = b
		}
		sub, req, err := s.parseRequest(msg, chosen, h.ID())
		if err != nil {
			var noMatch NoMatchingSubprotocolsError
			if !errors.Is(err, ErrInvalidMessage) && !errors.As(err, &noMatch) {
				t.Fatalf("error %v is neither ErrInvalidMessage nor NoMatchingSubprotocolsError", err)
			}
			if later && errors.As(err, &noMatch) {
				t.Fatal("negotiation ran on a later request")
			}
			return
		}
		if sub == nil || req == nil || req.RequesterID != h.ID() {
			t.Fatalf("parsed %q to %v, %+v", msg, sub, req)
		}
		if _, ok := req.Metadata.(pageMeta); !ok {
			t.Fatalf("metadata %T, want pageMeta", req.Metadata)
		}
		if later && sub != b {
			t.Fatalf("later request switched to %s", sub.Name())
		}
		var raw rawRequest
		if err := json.Unmarshal(msg, &raw); err != nil || !slices.Contains(raw.Subprotocols, sub.Name()) {
			t.Fatalf("chose %s, which %q does not name", sub.Name(), msg)
		}
	})
}
