package ordinal

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/testing/subtest"
)

// seed is this package's ordergen stream.
const seed = 6

// zeroHashHex is the snapshotID of a complete response.
const zeroHashHex = "0x0000000000000000000000000000000000000000000000000000000000000000"

// The provider echoes the request's page; its snapshotID is the cursor:
// the hash of the last order it scanned, and the zero hash in a complete
// response, as existing providers send.
func TestProviderAnswers(t *testing.T) {
	orders, hashes := subtest.SortedOrders(t, seed, 25)
	subtest.ProviderAnswers(t, New, subtest.Provider{
		Orders:  orders,
		PerPage: 10,
		Pages: []subtest.Page{
			{Name: "first page", Request: `null`, From: 0, To: 10,
				Metadata: &ResponseMetadata{Page: 0, SnapshotID: hashes[9].Hex()}},
			{Name: "last page", Request: `{"orderfilter":null,"page":7,"snapshotID":"` + hashes[19].Hex() + `"}`, From: 20, To: 25,
				Metadata: &ResponseMetadata{Page: 7, SnapshotID: hashes[24].Hex()}},
			{Name: "past the end", Request: `{"page":8,"snapshotID":"` + hashes[24].Hex() + `"}`, From: 25, To: 25, Complete: true,
				Metadata: &ResponseMetadata{Page: 8, SnapshotID: zeroHashHex}},
		},
		Empty: &ResponseMetadata{SnapshotID: zeroHashHex},
	})
}

func TestRequesterAsksForTheNextPage(t *testing.T) {
	orders, hashes := subtest.SortedOrders(t, seed, 30)
	filter := subtest.DefaultFilter(t)
	s := New(orderstore.NewMemory(), filter)
	outOfRange := &outOfRangeCounter{}
	s.ReportMetricsTo(outOfRange)
	upper := strings.ToUpper(hashes[15].Hex()[2:])
	subtest.RequesterTakes(t, s, []subtest.Step{
		// The provider says it scanned to hashes[15]; the requester
		// continues from there with the next page number.
		{Name: "page", Res: &ordersync.Response{ProviderID: "p", Orders: orders[:10], Metadata: &ResponseMetadata{Page: 3, SnapshotID: upper}}, Valid: 10,
			Next: &RequestMetadata{OrderFilter: filter, Page: 4, SnapshotID: upper}},
		// Orders past the snapshot the provider claims are out of range.
		{Name: "orders past the snapshot", Res: &ordersync.Response{ProviderID: "p", Orders: orders[16:25], Metadata: &ResponseMetadata{Page: 4, SnapshotID: hashes[20].Hex()}}, Valid: 5,
			Next: &RequestMetadata{OrderFilter: filter, Page: 5, SnapshotID: hashes[20].Hex()},
			Then: func(t *testing.T) {
				if n := outOfRange.n.Load(); n != 4 {
					t.Fatalf("out of range %d, want 4", n)
				}
			}},
		// A snapshotID that does not move ends the sync.
		{Name: "stalled snapshot", Res: &ordersync.Response{ProviderID: "p", Orders: orders[21:22], Metadata: &ResponseMetadata{Page: 5, SnapshotID: hashes[20].Hex()}},
			Err: pagination.ErrCursorStalled},
		{Name: "complete", Res: &ordersync.Response{ProviderID: "p", Complete: true, Metadata: &ResponseMetadata{}}},
	})
}

// outOfRangeCounter counts the orders reported out of range.
type outOfRangeCounter struct {
	ordersync.NoopMetricsTracer
	n atomic.Int64
}

func (c *outOfRangeCounter) OrdersRejected(_ peer.ID, reason ordersync.RejectReason, n int) {
	if reason == ordersync.RejectOutOfRange {
		c.n.Add(int64(n))
	}
}
