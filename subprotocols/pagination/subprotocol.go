package pagination

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/zeroex"
)

// Subprotocol is a pagination subprotocol over a store: a Pager, and a
// Codec that writes its cursor in the metadata types Req and Res. It
// implements ordersync.Subprotocol, ordersync.SyncResetter,
// ordersync.Pipeliner, ordersync.Spreader (lanes.go) and
// ordersync.MetricsReporter, and is safe for
// concurrent use; use one per node. filteredpagination.Subprotocol and
// ordinal.Subprotocol are two of its instances.
//
// As a provider it answers a request with up to a page of the store's
// orders after the request's cursor that match the request's filter; the
// response is complete exactly when it has no orders. As a requester it
// runs each response through the Pager (the package documentation says
// how) and asks next from the cursor the Pager moved to.
type Subprotocol[Req, Res any] struct {
	codec Codec[Req, Res]
	pager *paging.Pager
	// Error prefixes, made once: metadata of a wrong type, nil messages.
	requestLabel, responseLabel   string
	errNilRequest, errNilResponse error
}

var (
	_ ordersync.Subprotocol     = (*Subprotocol[struct{}, struct{}])(nil)
	_ ordersync.SyncResetter    = (*Subprotocol[struct{}, struct{}])(nil)
	_ ordersync.Pipeliner       = (*Subprotocol[struct{}, struct{}])(nil)
	_ ordersync.Prechecker      = (*Subprotocol[struct{}, struct{}])(nil)
	_ ordersync.MetricsReporter = (*Subprotocol[struct{}, struct{}])(nil)
	_ PeerScorer                = ordersync.Node(nil) // a node scores its providers itself
)

// New returns the subprotocol that codec describes, over store. As a
// provider it serves store's orders; as a requester it stores the orders it
// receives there, keeping only those that match filter (nil keeps every
// valid order) and sending filter to providers. It panics if an option is
// invalid (see CheckOptions). A subprotocol package's New calls it with its
// own Codec, as filteredpagination.New does.
func New[Req, Res any](codec Codec[Req, Res], store orderstore.Store, filter *orderfilter.Filter, opts ...Option) *Subprotocol[Req, Res] {
	name := codec.Name()
	return &Subprotocol[Req, Res]{
		codec:          codec,
		pager:          paging.NewPager(store, filter, opts...),
		requestLabel:   "pagination: " + name + " request",
		responseLabel:  "pagination: " + name + " response",
		errNilRequest:  errors.New("pagination: " + name + ": nil request"),
		errNilResponse: errors.New("pagination: " + name + ": nil response"),
	}
}

// Name returns the Codec's Name, the subprotocol's name on the wire.
func (s *Subprotocol[Req, Res]) Name() string { return s.codec.Name() }

// ReportMetricsTo makes the requester pipeline report the orders it
// rejects, and those new to the store, to t; the Service calls it (see
// ordersync.MetricsReporter).
func (s *Subprotocol[Req, Res]) ReportMetricsTo(t ordersync.MetricsTracer) {
	s.pager.ReportMetricsTo(t)
}

// UseValidation makes the requester pipeline run the Service's checks
// (its expiry and the node's Validator) on the orders that pass its own,
// before storing them; the Service calls it (see
// ordersync.ValidationUser).
func (s *Subprotocol[Req, Res]) UseValidation(v *ordersync.Validation) {
	s.pager.UseValidation(v)
}

// ResetSync forgets where the requester's sync with provider stood; the
// Service calls it before starting a sync over from the beginning (see
// ordersync.SyncResetter).
func (s *Subprotocol[Req, Res]) ResetSync(provider peer.ID) { s.pager.ResetSync(provider) }

// ParseRequestMetadata decodes request metadata into a *Req with the
// Codec's ParseRequest. Absent or null metadata is the first request.
func (s *Subprotocol[Req, Res]) ParseRequestMetadata(metadata json.RawMessage) (interface{}, error) {
	md, err := s.codec.ParseRequest(metadata)
	if err != nil {
		return nil, err
	}
	return md, nil
}

// ParseResponseMetadata decodes response metadata into a *Res with the
// Codec's ParseResponse.
func (s *Subprotocol[Req, Res]) ParseResponseMetadata(metadata json.RawMessage) (interface{}, error) {
	md, err := s.codec.ParseResponse(metadata)
	if err != nil {
		return nil, err
	}
	return md, nil
}

// GenerateFirstRequestMetadata returns the first request's metadata, the
// Codec's Request from the zero hash with the requester's own filter (null
// when it has none).
func (s *Subprotocol[Req, Res]) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	md, err := s.codec.Request(s.pager.Filter(), common.Hash{}, nil)
	if err != nil {
		return nil, err
	}
	return json.Marshal(md)
}

// HandleOrderSyncRequest answers a request as a provider: up to a page of
// the store's orders after the request's cursor that match its filter. The
// response is complete exactly when it has no orders, and then written
// with "orders":[] and the zero hash where its metadata says how far the
// provider scanned, as existing providers write it.
func (s *Subprotocol[Req, Res]) HandleOrderSyncRequest(ctx context.Context, req *ordersync.Request) (*ordersync.Response, error) {
	if req == nil {
		return nil, s.errNilRequest
	}
	md, err := meta.As(s.requestLabel, req.Metadata, s.codec.ParseRequest)
	if err != nil {
		return nil, err
	}
	filter, cursor, err := s.codec.RequestCursor(md)
	if err != nil {
		return nil, err
	}
	page, err := s.pager.Serve(ctx, cursor, filter)
	if err != nil {
		return nil, err
	}
	orders, through := page.Orders, page.LastScanned
	if len(orders) == 0 {
		orders = []*zeroex.SignedOrder{} // "orders":[] rather than null
		through = common.Hash{}
	}
	return &ordersync.Response{
		Orders:   orders,
		Complete: len(orders) == 0,
		Metadata: s.codec.Response(md, through),
	}, nil
}

// HandleOrderSyncResponse takes in a response as a requester: it validates
// and stores the orders (Pager.Accept) and returns the next request, from
// the cursor Accept moved to, or nil when the response was complete.
func (s *Subprotocol[Req, Res]) HandleOrderSyncResponse(ctx context.Context, res *ordersync.Response) (*ordersync.Request, int, error) {
	page, md, err := s.page(res)
	if err != nil {
		return nil, 0, err
	}
	acc, err := s.pager.Accept(ctx, page)
	if err != nil || acc.Done {
		return nil, acc.Valid, err
	}
	next, err := s.request(acc.Next, md)
	return next, acc.Valid, err
}

// NextRequest returns the request that HandleOrderSyncResponse will return
// for res, from the order hashes alone, with no signature checked and
// nothing stored (see ordersync.Pipeliner). It is nil when res leads to no
// next request, and the error is HandleOrderSyncResponse's when res would
// end the sync.
func (s *Subprotocol[Req, Res]) NextRequest(ctx context.Context, res *ordersync.Response) (*ordersync.Request, error) {
	page, md, err := s.page(res)
	if err != nil {
		return nil, err
	}
	cursor, done, err := s.pager.PeekNext(page)
	if err != nil || done {
		return nil, err
	}
	return s.request(cursor, md)
}

// PrecheckResponse checks the signatures of res's orders ahead of their
// turn, while the page before is stored (see ordersync.Prechecker).
func (s *Subprotocol[Req, Res]) PrecheckResponse(ctx context.Context, res *ordersync.Response) {
	if res != nil {
		s.pager.Precheck(ctx, res.Orders)
	}
}

// request is the request for the orders after cursor that follows the
// response whose metadata is prev.
func (s *Subprotocol[Req, Res]) request(cursor common.Hash, prev *Res) (*ordersync.Request, error) {
	md, err := s.codec.Request(s.pager.Filter(), cursor, prev)
	if err != nil {
		return nil, err
	}
	return &ordersync.Request{Metadata: md}, nil
}

// page is res as the Pager takes it, and res's metadata.
func (s *Subprotocol[Req, Res]) page(res *ordersync.Response) (paging.Page, *Res, error) {
	if res == nil {
		return paging.Page{}, nil, s.errNilResponse
	}
	md, err := meta.As(s.responseLabel, res.Metadata, s.codec.ParseResponse)
	if err != nil {
		return paging.Page{}, nil, err
	}
	through, fromThrough, err := s.codec.ResponseCursor(md)
	if err != nil {
		return paging.Page{}, nil, err
	}
	return paging.Page{
		Provider:        res.ProviderID,
		Orders:          res.Orders,
		Complete:        res.Complete,
		Through:         through,
		NextFromThrough: fromThrough,
	}, md, nil
}
