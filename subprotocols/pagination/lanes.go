package pagination

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
)

var _ ordersync.Spreader = (*Subprotocol[struct{}, struct{}])(nil)

// Spread splits what is left of a sync into at most n lanes of equal width
// of the hash space (SplitLanes), after the cursor of next, the request
// that follows res (see ordersync.Spreader). The first lane goes on with
// next; each other lane starts with the request a sync starting after the
// hash before the lane's start would make (version 1: that minOrderHash;
// version 0: page 0 and that snapshotID, which existing providers take as
// the hash to continue after).
func (s *Subprotocol[Req, Res]) Spread(ctx context.Context, res *ordersync.Response, next *ordersync.Request, n int) ([]*ordersync.Request, error) {
	if res == nil || next == nil {
		return nil, nil
	}
	md, err := meta.As(s.requestLabel, next.Metadata, s.codec.ParseRequest)
	if err != nil {
		return nil, err
	}
	_, cursor, err := s.codec.RequestCursor(md)
	if err != nil {
		return nil, err
	}
	lanes := paging.SplitLanes(s.pager.Cursor(res.ProviderID), cursor, n)
	if lanes == nil {
		return nil, nil
	}
	reqs := make([]*ordersync.Request, len(lanes))
	for i, l := range lanes {
		if i > 0 {
			if md, err = s.codec.Request(s.pager.Filter(), l.After, nil); err != nil {
				return nil, err
			}
		}
		reqs[i] = &ordersync.Request{Metadata: &paging.LaneMetadata[Req]{Metadata: md, Lane: l}}
	}
	return reqs, nil
}

// NextLaneRequest returns the request that HandleLaneResponse will return
// for res, the answer to req, from the order hashes alone (see
// ordersync.Spreader): nil when res ends req's lane.
func (s *Subprotocol[Req, Res]) NextLaneRequest(ctx context.Context, req *ordersync.Request, res *ordersync.Response) (*ordersync.Request, error) {
	l, err := s.lane(req)
	if err != nil {
		return nil, err
	}
	page, md, err := s.page(res)
	if err != nil {
		return nil, err
	}
	cursor, done, err := s.pager.PeekLane(page, l.Lane)
	if err != nil || done {
		return nil, err
	}
	return s.laneRequest(cursor, md, l.Lane)
}

// HandleLaneResponse takes in res, the answer to req, as a requester: it
// validates and stores the orders of req's lane (Pager.AcceptLane) and
// returns the lane's next request, or nil when the lane has ended.
func (s *Subprotocol[Req, Res]) HandleLaneResponse(ctx context.Context, req *ordersync.Request, res *ordersync.Response) (*ordersync.Request, int, error) {
	l, err := s.lane(req)
	if err != nil {
		return nil, 0, err
	}
	page, md, err := s.page(res)
	if err != nil {
		return nil, 0, err
	}
	acc, err := s.pager.AcceptLane(ctx, page, l.Lane)
	if err != nil || acc.Done {
		return nil, acc.Valid, err
	}
	next, err := s.laneRequest(acc.Next, md, l.Lane)
	return next, acc.Valid, err
}

// lane is the lane of a request Spread or NextLaneRequest made.
func (s *Subprotocol[Req, Res]) lane(req *ordersync.Request) (*paging.LaneMetadata[Req], error) {
	if req == nil {
		return nil, s.errNilRequest
	}
	l, ok := req.Metadata.(*paging.LaneMetadata[Req])
	if !ok || l.Metadata == nil {
		return nil, fmt.Errorf("%s: metadata of type %T, not a lane's", s.requestLabel, req.Metadata)
	}
	return l, nil
}

// laneRequest is the request of lane l for the orders after cursor, which
// follows the response whose metadata is prev.
func (s *Subprotocol[Req, Res]) laneRequest(cursor common.Hash, prev *Res, l paging.Lane) (*ordersync.Request, error) {
	md, err := s.codec.Request(s.pager.Filter(), cursor, prev)
	if err != nil {
		return nil, err
	}
	l.After = cursor
	return &ordersync.Request{Metadata: &paging.LaneMetadata[Req]{Metadata: md, Lane: l}}, nil
}
