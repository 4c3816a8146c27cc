package reconcile

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
)

// A requester that pages (a first sync, when it holds under a tenth of the
// provider's orders, or after giving up on reconciling) pages as
// /pagination-with-filter/version/1 does: pipelined, and in lanes over a
// slow link. Sketch and fetch rounds stay one request at a time: each
// request follows from the whole of the answer before it.

var (
	_ ordersync.Pipeliner  = (*Subprotocol)(nil)
	_ ordersync.Spreader   = (*Subprotocol)(nil)
	_ ordersync.Prechecker = (*Subprotocol)(nil)
)

// PrecheckResponse checks the signatures of res's orders (a page's or a
// fetch's) ahead of their turn, while the page before is stored (see
// ordersync.Prechecker).
func (s *Subprotocol) PrecheckResponse(ctx context.Context, res *ordersync.Response) {
	if res != nil {
		s.pager.Precheck(ctx, res.Orders)
	}
}

// NextRequest returns, for a page response, the request that
// HandleOrderSyncResponse will return for it, from the order hashes alone
// (see ordersync.Pipeliner); for sketches and fetches it cannot tell, and
// returns nil.
func (s *Subprotocol) NextRequest(ctx context.Context, res *ordersync.Response) (*ordersync.Request, error) {
	page, ok, err := s.pageOf(res)
	if !ok || err != nil {
		return nil, err
	}
	next, done, err := s.pager.PeekNext(page)
	if err != nil || done {
		return nil, err
	}
	return s.request(&RequestMetadata{Op: OpPage, After: next[:]}), nil
}

// Spread splits the rest of a paging sync into at most n lanes of the hash
// space (paging.SplitLanes), each paged through with "page" requests
// after the hash before its start (see ordersync.Spreader).
func (s *Subprotocol) Spread(ctx context.Context, res *ordersync.Response, next *ordersync.Request, n int) ([]*ordersync.Request, error) {
	if _, ok, err := s.pageOf(res); !ok || err != nil || next == nil {
		return nil, err
	}
	md, err := meta.As("reconcile: request", next.Metadata, parseRequestMetadata)
	if err != nil || md.Op != OpPage {
		return nil, err
	}
	lanes := paging.SplitLanes(s.pager.Cursor(res.ProviderID), common.BytesToHash(md.After), n)
	if lanes == nil {
		return nil, nil
	}
	reqs := make([]*ordersync.Request, len(lanes))
	for i, l := range lanes {
		if i > 0 {
			md = s.request(&RequestMetadata{Op: OpPage, After: l.After.Bytes()}).Metadata.(*RequestMetadata)
		}
		reqs[i] = &ordersync.Request{Metadata: &paging.LaneMetadata[RequestMetadata]{Metadata: md, Lane: l}}
	}
	return reqs, nil
}

// NextLaneRequest returns the request that HandleLaneResponse will return
// for res, the answer to req: nil when res ends req's lane.
func (s *Subprotocol) NextLaneRequest(ctx context.Context, req *ordersync.Request, res *ordersync.Response) (*ordersync.Request, error) {
	l, page, err := s.lanePage(req, res)
	if err != nil {
		return nil, err
	}
	next, done, err := s.pager.PeekLane(page, l)
	if err != nil || done {
		return nil, err
	}
	return s.laneRequest(next, l), nil
}

// HandleLaneResponse validates and stores the orders of a page of req's
// lane and returns the lane's next request, or nil when it has ended.
func (s *Subprotocol) HandleLaneResponse(ctx context.Context, req *ordersync.Request, res *ordersync.Response) (*ordersync.Request, int, error) {
	l, page, err := s.lanePage(req, res)
	if err != nil {
		return nil, 0, err
	}
	acc, err := s.pager.AcceptLane(ctx, page, l)
	if err != nil || acc.Done {
		return nil, acc.Valid, err
	}
	return s.laneRequest(acc.Next, l), acc.Valid, nil
}

// pageOf is res as the pagination pipeline takes it, when res is a page;
// ok is false for a sketch or a fetch.
func (s *Subprotocol) pageOf(res *ordersync.Response) (page paging.Page, ok bool, err error) {
	if res == nil {
		return paging.Page{}, false, fmt.Errorf("reconcile: nil response")
	}
	md, err := meta.As("reconcile: response", res.Metadata, parseResponseMetadata)
	if err != nil || md.Op != OpPage {
		return paging.Page{}, false, err
	}
	if st := s.syncs.get(res.ProviderID, false); st != nil && st.phase == phaseFetch {
		return paging.Page{}, false, nil // HandleOrderSyncResponse refuses it
	}
	page = paging.Page{Provider: res.ProviderID, Orders: res.Orders, Complete: res.Complete}
	copy(page.Through[:], md.Next)
	return page, true, nil
}

// lanePage is the lane of req, a request Spread or NextLaneRequest made,
// and res, its answer, as a page.
func (s *Subprotocol) lanePage(req *ordersync.Request, res *ordersync.Response) (paging.Lane, paging.Page, error) {
	var l *paging.LaneMetadata[RequestMetadata]
	if req != nil {
		l, _ = req.Metadata.(*paging.LaneMetadata[RequestMetadata])
	}
	if l == nil {
		return paging.Lane{}, paging.Page{}, fmt.Errorf("%w: a lane's answer to a request of no lane", ErrUnexpected)
	}
	page, ok, err := s.pageOf(res)
	if err == nil && !ok {
		err = fmt.Errorf("%w: a lane's page request answered with no page", ErrUnexpected)
	}
	return l.Lane, page, err
}

// laneRequest is lane l's request for the orders after cursor.
func (s *Subprotocol) laneRequest(cursor common.Hash, l paging.Lane) *ordersync.Request {
	md := s.request(&RequestMetadata{Op: OpPage, After: cursor.Bytes()}).Metadata.(*RequestMetadata)
	l.After = cursor
	return &ordersync.Request{Metadata: &paging.LaneMetadata[RequestMetadata]{Metadata: md, Lane: l}}
}
