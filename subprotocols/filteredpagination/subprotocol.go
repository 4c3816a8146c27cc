package filteredpagination

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// Name is the subprotocol's name on the wire.
const Name = "/pagination-with-filter/version/1"

// Subprotocol is "/pagination-with-filter/version/1" over a store. It
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
	_ pagination.PeerScorer     = ordersync.Node(nil) // a node scores its providers itself
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
// Absent or null metadata is the first request: no filter, zero hash.
func (s *Subprotocol) ParseRequestMetadata(metadata json.RawMessage) (interface{}, error) {
	return parseRequestMetadata(metadata)
}

// ParseResponseMetadata decodes response metadata into a
// *ResponseMetadata.
func (s *Subprotocol) ParseResponseMetadata(metadata json.RawMessage) (interface{}, error) {
	return parseResponseMetadata(metadata)
}

// GenerateFirstRequestMetadata returns the first request's metadata: the
// requester's own filter (null when it has none) and the zero hash.
func (s *Subprotocol) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	return json.Marshal(RequestMetadata{OrderFilter: s.pager.Filter()})
}

// HandleOrderSyncRequest answers a request as a provider: up to a page of
// the store's orders after the request's cursor that match its filter. The
// response is complete exactly when it has no orders; then its
// nextMinOrderHash is the zero hash.
func (s *Subprotocol) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	md, err := requestMetadata(req)
	if err != nil {
		return nil, err
	}
	page, err := s.pager.Serve(ctx, md.MinOrderHash, md.OrderFilter)
	if err != nil {
		return nil, err
	}
	orders := page.Orders
	resMD := &ResponseMetadata{NextMinOrderHash: page.LastScanned}
	if len(orders) == 0 {
		// The complete response carries the zero hash, as existing
		// providers write it.
		orders = []*zeroex.SignedOrder{} // "orders":[] rather than null
		resMD.NextMinOrderHash = common.Hash{}
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
// from the hash of the last order received, or nil when the response was
// complete.
func (s *Subprotocol) HandleOrderSyncResponse(ctx context.Context, res *ordersync.Response) (*ordersync.Request, int, error) {
	page, err := responsePage(res)
	if err != nil {
		return nil, 0, err
	}
	acc, err := s.pager.Accept(ctx, page)
	if err != nil || acc.Done {
		return nil, acc.Valid, err
	}
	return s.request(acc.Next), acc.Valid, nil
}

// NextRequest returns the request that HandleOrderSyncResponse will return
// for res, from the order hashes alone, with no signature checked and
// nothing stored (see ordersync.Pipeliner). It is nil when res leads to no
// next request, and the error is HandleOrderSyncResponse's when res would
// end the sync.
func (s *Subprotocol) NextRequest(ctx context.Context, res *ordersync.Response) (*ordersync.Request, error) {
	page, err := responsePage(res)
	if err != nil {
		return nil, err
	}
	next, done, err := s.pager.NextCursor(page)
	if err != nil || done {
		return nil, err
	}
	return s.request(next), nil
}

// request is the request for the orders after cursor.
func (s *Subprotocol) request(cursor common.Hash) *ordersync.Request {
	return &ordersync.Request{
		Metadata: &RequestMetadata{OrderFilter: s.pager.Filter(), MinOrderHash: cursor},
	}
}

// responsePage is res as the pagination pipeline takes it.
func responsePage(res *ordersync.Response) (pagination.Page, error) {
	if res == nil {
		return pagination.Page{}, fmt.Errorf("filteredpagination: nil response")
	}
	md, err := responseMetadata(res)
	if err != nil {
		return pagination.Page{}, err
	}
	return pagination.Page{
		Provider: res.ProviderID,
		Orders:   res.Orders,
		Complete: res.Complete,
		Through:  md.NextMinOrderHash,
	}, nil
}

// requestMetadata returns a request's metadata as ParseRequestMetadata made
// it; nil metadata is the first request.
func requestMetadata(req *ordersync.Request) (*RequestMetadata, error) {
	if req == nil {
		return nil, fmt.Errorf("filteredpagination: nil request")
	}
	return pagination.AsMetadata("filteredpagination: request", req.Metadata, parseRequestMetadata)
}

// responseMetadata returns a response's metadata as ParseResponseMetadata
// made it.
func responseMetadata(res *ordersync.Response) (*ResponseMetadata, error) {
	return pagination.AsMetadata("filteredpagination: response", res.Metadata, parseResponseMetadata)
}
