package ordinal

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// Name is the subprotocol's name on the wire.
const Name = "/pagination-with-filter/version/0"

// Subprotocol is "/pagination-with-filter/version/0" over a store. It
// implements ordersync.Subprotocol and is safe for concurrent use; use one
// per node.
type Subprotocol struct {
	pager *pagination.Pager
}

var (
	_ ordersync.Subprotocol     = (*Subprotocol)(nil)
	_ ordersync.SyncResetter    = (*Subprotocol)(nil)
	_ ordersync.Pipeliner       = (*Subprotocol)(nil)
	_ ordersync.MetricsReporter = (*Subprotocol)(nil)
)

// New returns the subprotocol over store. As a provider it serves store's
// orders; as a requester it stores the orders it receives there, keeping
// only those that match filter (nil keeps every valid order) and sending
// filter to providers. It panics if an option is invalid (see
// pagination.CheckOptions).
func New(store orderstore.Store, filter *orderfilter.Filter, opts ...pagination.Option) *Subprotocol {
	return &Subprotocol{pager: pagination.New(store, filter, opts...)}
}

// Name returns Name.
func (s *Subprotocol) Name() string { return Name }

// ReportMetricsTo makes the requester pipeline report the orders it
// rejects, and those new to the store, to t; the Service calls it (see
// ordersync.MetricsReporter).
func (s *Subprotocol) ReportMetricsTo(t ordersync.MetricsTracer) { s.pager.ReportMetricsTo(t) }

// ParseRequestMetadata decodes request metadata into a *RequestMetadata.
// Absent or null metadata is the first request: no filter, page 0, "".
func (s *Subprotocol) ParseRequestMetadata(metadata json.RawMessage) (interface{}, error) {
	return parseRequestMetadata(metadata)
}

// ParseResponseMetadata decodes response metadata into a
// *ResponseMetadata.
func (s *Subprotocol) ParseResponseMetadata(metadata json.RawMessage) (interface{}, error) {
	return parseResponseMetadata(metadata)
}

// GenerateFirstRequestMetadata returns the first request's metadata: the
// requester's own filter (null when it has none), page 0 and snapshotID "".
func (s *Subprotocol) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	return json.Marshal(RequestMetadata{OrderFilter: s.pager.Filter()})
}

// HandleOrderSyncRequest answers a request as a provider: up to a page of
// the store's orders after the request's snapshotID that match its filter.
// The response is complete exactly when it has no orders; then its
// snapshotID is the zero hash (0x and 64 zeros).
func (s *Subprotocol) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	md, err := requestMetadata(req)
	if err != nil {
		return nil, err
	}
	from, err := after(md.SnapshotID)
	if err != nil {
		return nil, fmt.Errorf("ordinal: request metadata: field %w", err)
	}
	page, err := s.pager.Serve(ctx, from, md.OrderFilter)
	if err != nil {
		return nil, err
	}
	orders := page.Orders
	resMD := &ResponseMetadata{Page: md.Page, SnapshotID: page.LastScanned.Hex()}
	if len(orders) == 0 {
		// The complete response carries the zero hash, as existing
		// providers write it.
		orders = []*zeroex.SignedOrder{} // "orders":[] rather than null
		resMD.SnapshotID = common.Hash{}.Hex()
	}
	return &ordersync.Response{
		Orders:   orders,
		Complete: len(orders) == 0,
		Metadata: resMD,
	}, nil
}

// ResetSync forgets where the requester's sync with provider stood; the
// Service calls it before starting a sync over from the beginning.
func (s *Subprotocol) ResetSync(provider peer.ID) { s.pager.ResetSync(provider) }

// HandleOrderSyncResponse takes in a response as a requester: it validates
// and stores the orders (package pagination) and returns the next request,
// page+1 from the response's snapshotID, or nil when the response was
// complete.
func (s *Subprotocol) HandleOrderSyncResponse(ctx context.Context, res *ordersync.Response) (*ordersync.Request, int, error) {
	page, md, err := responsePage(res)
	if err != nil {
		return nil, 0, err
	}
	acc, err := s.pager.Accept(ctx, page)
	if err != nil || acc.Done {
		return nil, acc.Valid, err
	}
	next, err := s.request(md, page.Through, acc.Next)
	return next, acc.Valid, err
}

// NextRequest returns the request that HandleOrderSyncResponse will return
// for res, from the order hashes alone, with no signature checked and
// nothing stored (see ordersync.Pipeliner). It is nil when res leads to no
// next request, and the error is HandleOrderSyncResponse's when res would
// end the sync.
func (s *Subprotocol) NextRequest(ctx context.Context, res *ordersync.Response) (*ordersync.Request, error) {
	page, md, err := responsePage(res)
	if err != nil {
		return nil, err
	}
	cursor, done, err := s.pager.NextCursor(page)
	if err != nil || done {
		return nil, err
	}
	return s.request(md, page.Through, cursor)
}

// request is the request that follows a response with metadata md, whose
// snapshotID names through, when the pipeline moved the cursor to cursor.
func (s *Subprotocol) request(md *ResponseMetadata, through, cursor common.Hash) (*ordersync.Request, error) {
	if md.Page == math.MaxInt {
		return nil, fmt.Errorf("ordinal: response metadata: field \"page\": %d has no next page", md.Page)
	}
	next := &RequestMetadata{OrderFilter: s.pager.Filter(), Page: md.Page + 1, SnapshotID: snapshotID(cursor)}
	if through == cursor {
		next.SnapshotID = md.SnapshotID // as the provider wrote it
	}
	return &ordersync.Request{Metadata: next}, nil
}

// responsePage is res as the pagination pipeline takes it, and its
// metadata.
func responsePage(res *ordersync.Response) (pagination.Page, *ResponseMetadata, error) {
	if res == nil {
		return pagination.Page{}, nil, fmt.Errorf("ordinal: nil response")
	}
	md, err := responseMetadata(res)
	if err != nil {
		return pagination.Page{}, nil, err
	}
	through, err := after(md.SnapshotID)
	if err != nil {
		return pagination.Page{}, nil, fmt.Errorf("ordinal: response metadata: field %w", err)
	}
	return pagination.Page{
		Provider:        res.ProviderID,
		Orders:          res.Orders,
		Complete:        res.Complete,
		Through:         through,
		NextFromThrough: true,
	}, md, nil
}

// requestMetadata returns a request's metadata as ParseRequestMetadata made
// it; nil metadata is the first request.
func requestMetadata(req *ordersync.Request) (*RequestMetadata, error) {
	if req == nil {
		return nil, fmt.Errorf("ordinal: nil request")
	}
	return pagination.AsMetadata("ordinal: request", req.Metadata, parseRequestMetadata)
}

// responseMetadata returns a response's metadata as ParseResponseMetadata
// made it.
func responseMetadata(res *ordersync.Response) (*ResponseMetadata, error) {
	return pagination.AsMetadata("ordinal: response", res.Metadata, parseResponseMetadata)
}
