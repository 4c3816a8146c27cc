package ordersync

import (
	"bufio"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"
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
	provider.SetStreamHandler(ID, func(s network.Stream) {
		defer s.Close()
		if _, err := bufio.NewReader(s).ReadBytes('\n'); err != nil {
			return
		}
		_, _ = s.Write([]byte(huge))
	})
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
