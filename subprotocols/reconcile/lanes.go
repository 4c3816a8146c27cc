package reconcile

import (
	"context"
	"errors"
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
	prev, cursor := s.pager.Cursor(res.ProviderID), common.BytesToHash(md.After)
	if s.view() != nil && s.firstSync(res.ProviderID) {
		// Into an empty store: page a share, and leave the rest to the
		// other providers paged at once (shares.go).
		return s.shareLanes(res.ProviderID, prev, cursor, n), nil
	}
	lanes := paging.SplitLanes(prev, cursor, n)
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

// errUntold is NextLaneRequest's error when only HandleLaneResponse can
// tell what follows.
var errUntold = errors.New("reconcile: the next request depends on what the response holds")

// NextLaneRequest returns the request that HandleLaneResponse will return
// for res, the answer to req: nil when res ends req's lane. For the last
// page of a lane of a share (what follows it depends on the other
// providers), and for the sketches and fetches that follow a share, it
// cannot tell.
func (s *Subprotocol) NextLaneRequest(ctx context.Context, req *ordersync.Request, res *ordersync.Response) (*ordersync.Request, error) {
	if !isLane(req) {
		return nil, errUntold
	}
	l, page, share, err := s.lanePage(req, res)
	if err != nil {
		return nil, err
	}
	if share != nil {
		return s.nextShareLaneRequest(req.Metadata.(*shareLaneMetadata), l, page)
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
	if !isLane(req) {
		// The reconciliation after a share: one request at a time.
		return s.HandleOrderSyncResponse(ctx, res)
	}
	l, page, share, err := s.lanePage(req, res)
	if err != nil {
		return nil, 0, err
	}
	if share != nil {
		return s.handleShareLane(ctx, l, share, page)
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

// isLane reports whether req is a lane's page request rather than one of
// the sketches and fetches after a share, which the sync makes in a lane
// of its own too.
func isLane(req *ordersync.Request) bool {
	if req == nil {
		return true // lanePage refuses it
	}
	_, plain := req.Metadata.(*RequestMetadata)
	return !plain
}

// lanePage is the lane of req, a request Spread or NextLaneRequest made,
// and res, its answer, as a page; share is req's metadata when the lane
// pages a share.
func (s *Subprotocol) lanePage(req *ordersync.Request, res *ordersync.Response) (paging.Lane, paging.Page, *shareLaneMetadata, error) {
	var l *paging.LaneMetadata[RequestMetadata]
	var share *shareLaneMetadata
	if req != nil {
		switch md := req.Metadata.(type) {
		case *paging.LaneMetadata[RequestMetadata]:
			l = md
		case *shareLaneMetadata:
			l, share = &md.LaneMetadata, md
		}
	}
	if l == nil {
		return paging.Lane{}, paging.Page{}, nil, fmt.Errorf("%w: a lane's answer to a request of no lane", ErrUnexpected)
	}
	page, ok, err := s.pageOf(res)
	if err == nil && !ok {
		err = fmt.Errorf("%w: a lane's page request answered with no page", ErrUnexpected)
	}
	return l.Lane, page, share, err
}

// laneRequest is lane l's request for the orders after cursor.
func (s *Subprotocol) laneRequest(cursor common.Hash, l paging.Lane) *ordersync.Request {
	md := s.request(&RequestMetadata{Op: OpPage, After: cursor.Bytes()}).Metadata.(*RequestMetadata)
	l.After = cursor
	return &ordersync.Request{Metadata: &paging.LaneMetadata[RequestMetadata]{Metadata: md, Lane: l}}
}
