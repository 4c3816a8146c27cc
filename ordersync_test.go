package ordersync

import (
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/ordersync/ordersync/internal/wire"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/testing/testnet"
)

func TestMultiPageSync(t *testing.T) {
	hosts := testnet.New(t, 2)
	requesterHost, providerHost := hosts[0], hosts[1]
	providerSub := newPager("/test/a", orders(1, 25), 10)
	newService(t, providerHost, []Subprotocol{providerSub}, testOptions(t, 1)...)
	requesterSub := newPager("/test/a", nil, 10)
	requester := newService(t, requesterHost, []Subprotocol{requesterSub}, testOptions(t, 1)...)

	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if got := requesterSub.receivedCount(); got != 25 {
		t.Errorf("requester kept %d orders, want 25", got)
	}
	if got, want := providerSub.offsetsAsked(), []int{0, 10, 20, 25}; !slices.Equal(got, want) {
		t.Errorf("provider was asked for offsets %v, want %v", got, want)
	}
	st := requester.Stats()
	ps := st.Providers[providerHost.ID()]
	if ps.Pages != 4 || ps.Orders != 25 || ps.Subprotocol != "/test/a" || ps.LastError != "" {
		t.Errorf("provider stats %+v, want 4 pages, 25 orders, /test/a, no error", ps)
	}
	if st.SyncsCompleted != 1 || st.SyncsFailed != 0 {
		t.Errorf("syncs completed %d failed %d, want 1 and 0", st.SyncsCompleted, st.SyncsFailed)
	}
	if ps.BytesReceived == 0 || st.BytesRead != ps.BytesReceived || st.BytesWritten == 0 {
		t.Errorf("byte counts: read %d, from provider %d, written %d", st.BytesRead, ps.BytesReceived, st.BytesWritten)
	}
	if v, _ := tag(requesterHost, providerHost.ID(), peerscore.ReceivedOrders); v != peerscore.ReceivedOrdersScore {
		t.Errorf("requester's received-orders tag for provider = %d, want %d", v, peerscore.ReceivedOrdersScore)
	}
	if v, _ := tag(providerHost, requesterHost.ID(), peerscore.ValidMessage); v != peerscore.ValidMessageScore {
		t.Errorf("provider's valid-message tag for requester = %d, want %d", v, peerscore.ValidMessageScore)
	}
}

// negotiate syncs a requester listing reqNames with a provider supporting
// provNames, and returns the provider's pagers by name.
func negotiate(t *testing.T, reqNames, provNames []string) (map[string]*pager, *Service, []host.Host) {
	hosts := testnet.New(t, 2)
	provPagers := map[string]*pager{}
	var provSubs, reqSubs []Subprotocol
	for _, n := range provNames {
		p := newPager(n, orders(2, 3), 10)
		provPagers[n] = p
		provSubs = append(provSubs, p)
	}
	for _, n := range reqNames {
		reqSubs = append(reqSubs, newPager(n, nil, 10))
	}
	newService(t, hosts[1], provSubs, testOptions(t, 1)...)
	requester := newService(t, hosts[0], reqSubs, testOptions(t, 1)...)
	return provPagers, requester, hosts
}

func TestNegotiationRequesterPreferenceWins(t *testing.T) {
	for _, order := range [][]string{{"/test/a", "/test/b"}, {"/test/b", "/test/a"}} {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			pagers, requester, hosts := negotiate(t, order, []string{"/test/a", "/test/b"})
			if err := requester.GetOrders(t.Context(), 1); err != nil {
				t.Fatalf("GetOrders: %v", err)
			}
			want, other := order[0], order[1]
			wantReqs, otherReqs := pagers[want].requestsSeen(), pagers[other].requestsSeen()
			if len(wantReqs) == 0 || len(otherReqs) != 0 {
				t.Fatalf("provider served %s %d times and %s %d times; want only %s",
					want, len(wantReqs), other, len(otherReqs), want)
			}
			// The chosen subprotocol got its own entry of the first
			// request's metadata.
			if from := wantReqs[0].From; from != want {
				t.Errorf("first request metadata came from %q, want %q", from, want)
			}
			if got := requester.Stats().Providers[hosts[1].ID()].Subprotocol; got != want {
				t.Errorf("stats subprotocol %q, want %q", got, want)
			}
		})
	}
}

func TestNegotiationPicksMetadataEntryOfChosen(t *testing.T) {
	// The provider supports only the requester's second choice: it must
	// take entry 1 of the metadata list.
	pagers, requester, _ := negotiate(t, []string{"/test/a", "/test/b"}, []string{"/test/b"})
	if err := requester.GetOrders(t.Context(), 1); err != nil {
		t.Fatalf("GetOrders: %v", err)
	}
	if from := pagers["/test/b"].requestsSeen()[0].From; from != "/test/b" {
		t.Errorf("first request metadata came from %q, want /test/b", from)
	}
}

func TestNegotiationNoMatch(t *testing.T) {
	_, requester, hosts := negotiate(t, []string{"/test/x", "/test/y"}, []string{"/test/a", "/test/b"})
	err := requester.GetOrders(t.Context(), 1)
	if !errors.Is(err, ErrTooFewPeers) {
		t.Fatalf("GetOrders: %v, want ErrTooFewPeers", err)
	}
	if v, ok := tag(hosts[1], hosts[0].ID(), peerscore.NegotiationFailed); !ok || v != peerscore.NegotiationFailedScore {
		t.Errorf("provider's negotiation-failed tag for requester = %d (present %v), want %d", v, ok, peerscore.NegotiationFailedScore)
	}
	if last := requester.Stats().Providers[hosts[1].ID()].LastError; last == "" {
		t.Error("requester's stats show no error for the provider")
	}

	// The error value itself.
	provider := newService(t, hosts[1], []Subprotocol{newPager("/test/a", nil, 1), newPager("/test/b", nil, 1)}, testOptions(t, 1)...)
	_, _, err = provider.GetMatchingSubprotocol(&rawRequest{Type: TypeRequest, Subprotocols: []string{"/test/x", "/test/y"}})
	var noMatch NoMatchingSubprotocolsError
	if !errors.As(err, &noMatch) {
		t.Fatalf("GetMatchingSubprotocol error %v, want a NoMatchingSubprotocolsError", err)
	}
	if !slices.Equal(noMatch.Requested, []string{"/test/x", "/test/y"}) || !slices.Equal(noMatch.Supported, []string{"/test/a", "/test/b"}) {
		t.Errorf("error lists %v and %v", noMatch.Requested, noMatch.Supported)
	}
	for _, name := range []string{"/test/x", "/test/y", "/test/a", "/test/b"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestGetMatchingSubprotocolIndex(t *testing.T) {
	h := testnet.NewHost(t)
	s := newService(t, h, []Subprotocol{newPager("/test/a", nil, 1), newPager("/test/b", nil, 1)}, testOptions(t, 1)...)
	sub, i, err := s.GetMatchingSubprotocol(&rawRequest{Subprotocols: []string{"/test/x", "/test/b", "/test/a"}})
	if err != nil || sub.Name() != "/test/b" || i != 1 {
		t.Fatalf("got %v, %d, %v; want /test/b at index 1", sub, i, err)
	}
}

// The public names of the wire are the ones internal/wire spells.
func TestPublicWireNamesMatchWire(t *testing.T) {
	if TypeRequest != wire.TypeRequest || TypeResponse != wire.TypeResponse {
		t.Fatalf("types %q, %q; wire spells %q, %q", TypeRequest, TypeResponse, wire.TypeRequest, wire.TypeResponse)
	}
	metadata := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`null`)}
	public, err := json.Marshal(FirstRequestsForSubprotocols{MetadataForSubprotocol: metadata})
	if err != nil {
		t.Fatal(err)
	}
	req, err := wire.FirstRequest([]string{"/a", "/b"}, metadata)
	if err != nil {
		t.Fatal(err)
	}
	if string(req.Metadata) != string(public) {
		t.Fatalf("wire's first request metadata %s, FirstRequestsForSubprotocols %s", req.Metadata, public)
	}
}

// TestEncodingCacheOption tells by what a provider serves whether it kept
// its orders' encodings: an order changed after the first sync (without
// ResetHash) goes out as it was with the cache, and as it is now, so with
// a signature that no longer matches, without it.
func TestEncodingCacheOption(t *testing.T) {
	for _, keep := range []bool{true, false} {
		// Each requester is connected to the provider only.
		hosts := testnet.New(t, 3, testnet.WithoutConnecting())
		testnet.Connect(t, hosts[1], hosts[0])
		testnet.Connect(t, hosts[2], hosts[0])
		provided := orders(7, 5)
		newService(t, hosts[0], []Subprotocol{newPager("/test/a", provided, 10)},
			append(testOptions(t, 1), WithEncodingCache(keep))...)
		sync := func(h host.Host) int {
			sub := newPager("/test/a", nil, 10)
			requester := newService(t, h, []Subprotocol{sub}, testOptions(t, 1)...)
			if err := requester.GetOrders(t.Context(), 1); err != nil {
				t.Fatalf("keep %v: GetOrders: %v", keep, err)
			}
			return sub.receivedCount()
		}
		if got := sync(hosts[1]); got != 5 {
			t.Fatalf("keep %v: first sync kept %d orders, want 5", keep, got)
		}
		provided[0].Salt.Add(provided[0].Salt, big.NewInt(1))
		want := 5 // the cached encoding, still validly signed
		if !keep {
			want = 4
		}
		if got := sync(hosts[2]); got != want {
			t.Errorf("keep %v: second sync kept %d orders, want %d", keep, got, want)
		}
	}
}
