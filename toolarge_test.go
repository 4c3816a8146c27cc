package ordersync

import (
	"bufio"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A response over the size bound scores its provider as an invalid
// message even when the requester's resource manager refuses memory for it
// first (its stream limit under the bound). The requester once took the
// refusal for a broken stream and scored nothing.
func TestTooLargeScoredWhicheverLimitFirst(t *testing.T) {
	limits := rcmgr.PartialLimitConfig{Stream: rcmgr.ResourceLimits{Memory: rcmgr.LimitVal64(1 << 20)}}.Build(rcmgr.InfiniteLimits)
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		t.Fatal(err)
	}
	requesterHost := testnet.NewHost(t, libp2p.ResourceManager(rm))
	provider := testnet.NewHost(t)
	testnet.Connect(t, requesterHost, provider)
	huge := `{"type":"Response","subprotocol":"/test/a","orders":[],"complete":true,"metadata":{"next":0,"pad":"` +
		strings.Repeat("x", 3<<20) + `"}}` + "\n"
	answerOnce(provider, []byte(huge))
	requester := newService(t, requesterHost, []Subprotocol{newPager("/test/a", nil, 10)},
		append(testOptions(t, 1), WithMaxResponseSize(2<<20))...)
	if _, err := requester.syncWithPeer(t.Context(), provider.ID()); err == nil {
		t.Fatal("a sync with an over-size response succeeded")
	}
	if v, _ := tag(requesterHost, provider.ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
		t.Errorf("requester's %s tag for the provider = %d, want %d (last error %q)", peerscore.InvalidMessage, v,
			peerscore.InvalidMessageDelta, requester.Stats().Providers[provider.ID()].LastError)
	}
}

// A response over the size bound fails as too large, and scores its
// provider once, even when the decoder, which takes a response in as it
// arrives, finds it malformed long before the bound: the framing's
// verdict on the whole message wins, as when the message was read whole
// before it was decoded. One within the bound fails as invalid.
func TestTooLargeWinsOverMalformed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		orders int
		want   error
	}{{"over the bound", 3000, ErrMessageTooLarge}, {"within it", 10, ErrInvalidMessage}} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 2)
			requesterHost, provider := hosts[0], hosts[1]
			one, err := json.Marshal(orders(21, 1)[0])
			if err != nil {
				t.Fatal(err)
			}
			order := string(one)
			resp := `{"type":"Response","complete":"yes","orders":[` + order + strings.Repeat(","+order, tc.orders-1) + `]}` + "\n"
			answerOnce(provider, []byte(resp))
			requester := newService(t, requesterHost, []Subprotocol{newPager("/test/a", nil, 10)},
				append(testOptions(t, 1), WithMaxResponseSize(2<<20))...)
			_, err = requester.syncWithPeer(t.Context(), provider.ID())
			if !errors.Is(err, tc.want) {
				t.Fatalf("sync error %v, want %v", err, tc.want)
			}
			if v, _ := tag(requesterHost, provider.ID(), peerscore.InvalidMessage); v != peerscore.InvalidMessageDelta {
				t.Errorf("requester's %s tag for the provider = %d, want %d", peerscore.InvalidMessage, v, peerscore.InvalidMessageDelta)
			}
		})
	}
}

// answerOnce makes h a provider that answers each stream's first request
// with resp, whatever it asked, and closes the stream.
func answerOnce(h host.Host, resp []byte) {
	h.SetStreamHandler(ID, func(s network.Stream) {
		defer s.Close()
		if _, err := bufio.NewReader(s).ReadBytes('\n'); err != nil {
			return
		}
		_, _ = s.Write(resp)
	})
}
