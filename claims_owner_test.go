package ordersync

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/testing/testnet"
)

// A fetch that is not the sync (news's, say) holds claims on orders from a
// provider; a sync with that provider ends. The fetch's claims are its own
// and stay: before, the end of the sync released every claim on the
// provider, and another fetch got those orders a second time.
func TestSyncEndKeepsOtherFetchesClaims(t *testing.T) {
	hosts := testnet.New(t, 2)
	newService(t, hosts[1], []Subprotocol{newPager("/test/a", orders(7, 3), 10)}, testOptions(t, 1)...)
	syncs := &claimingPager{pager: newPager("/test/a", nil, 10), hashes: []common.Hash{{9}}}
	requester := newService(t, hosts[0], []Subprotocol{syncs}, testOptions(t, 1)...)
	provider := hosts[1].ID()
	v := requester.validation
	held := []common.Hash{{1}, {2}}

	news := v.NewClaims()
	if mine, _ := news.Claim(held); len(mine) != len(held) {
		t.Fatalf("the other fetch claimed %d of %d", len(mine), len(held))
	}
	if err := requester.SyncPeer(t.Context(), provider); err != nil {
		t.Fatal(err)
	}
	if err := v.Await(t.Context(), syncs.hashes); err != nil {
		t.Fatalf("the sync's own claims outlived it: %v", err)
	}
	if mine, busy := v.NewClaims().Claim(held); len(mine) != 0 || len(busy) != len(held) {
		t.Fatalf("after the sync ended, another fetch claimed %v: the first fetch's claims went with the sync", mine)
	}
}

// claimingPager is a pager whose requester claims hashes in its sync's
// Claims and never releases them, as a sync that broke off would.
type claimingPager struct {
	*pager
	v      *Validation
	hashes []common.Hash
}

func (p *claimingPager) UseValidation(v *Validation) { p.v = v }

func (p *claimingPager) HandleOrderSyncResponse(ctx context.Context, resp *Response) (*Request, int, error) {
	p.v.SyncClaims(resp.ProviderID).Claim(p.hashes)
	return p.pager.HandleOrderSyncResponse(ctx, resp)
}
