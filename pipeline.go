package ordersync

import (
	"bytes"
	"context"
	"fmt"
)

// This file is pipelining: before the requester validates a page, it asks
// the subprotocol for the request that follows it (Pipeliner; with a
// Spreader, the first requests of several lanes), writes that request so
// that the provider builds the next page meanwhile, and checks afterwards
// that validation returned the very same request.

// followers is what the requester knows, before validating a response, of
// the requests that follow it.
type followers struct {
	// known is true when the subprotocol told the request that follows
	// (early, nil when the lane ends) before validation, so that
	// HandleOrderSyncResponse or HandleLaneResponse must return the same.
	known         bool
	early         *Request
	earlyRaw      *rawRequest
	earlyMetadata []byte
	// endsLane is true when the response ends its lane: it is complete,
	// or a Spreader said so.
	endsLane bool
	// spread are the lanes' first requests when the response spreads the
	// sync (Spread), and lanes those lanes; lanes[0] continues the lane
	// the response came on.
	spread []*Request
	lanes  []*lane
	// earlyWritten is true when early (or spread[0]) was written.
	earlyWritten bool
}

// followInLane asks the Spreader, before the response is validated, what
// follows it in its lane.
func (ps *peerSync) followInLane(ctx context.Context, sent sentRequest, resp *Response) followers {
	if resp.Complete {
		return followers{endsLane: true}
	}
	next, err := ps.sub.(Spreader).NextLaneRequest(ctx, sent.req, resp)
	if err != nil {
		return followers{} // HandleLaneResponse decides
	}
	fo := followers{known: true, early: next, endsLane: next == nil}
	ps.encodeEarly(&fo)
	return fo
}

// follow asks the subprotocol of a sync in one lane, before the response
// is validated, for the request that follows it (Pipeliner) and, if the
// sync may spread, for the lanes' first requests (Spreader).
func (ps *peerSync) follow(ctx context.Context, resp *Response) (followers, error) {
	pl, ok := ps.sub.(Pipeliner)
	if !ok || resp.Complete || ps.s.cfg.unpipelined {
		return followers{endsLane: resp.Complete}, nil
	}
	next, err := pl.NextRequest(ctx, resp)
	if err != nil || next == nil {
		// HandleOrderSyncResponse decides: it reports the same error, or
		// returns a request to write after it.
		return followers{}, nil
	}
	fo := followers{known: true, early: next}
	if !ps.encodeEarly(&fo) {
		return fo, nil
	}
	if sp, ok := ps.sub.(Spreader); ok && !ps.spread && ps.s.cfg.lanes > 1 {
		reqs, err := sp.Spread(ctx, resp, fo.early, ps.s.cfg.lanes)
		if err != nil {
			return fo, nil // one lane, as before
		}
		if len(reqs) > ps.s.cfg.lanes {
			return followers{}, fmt.Errorf("ordersync: %s spread a sync with %s into %d lanes, more than the %d asked for", ps.sub.Name(), ps.p, len(reqs), ps.s.cfg.lanes)
		}
		if len(reqs) > 1 {
			fo.spread = reqs
		}
	}
	return fo, nil
}

// encodeEarly encodes fo's early request, if any, for writing and for
// checking; it forgets a request it cannot encode (the subprotocol's
// handling decides then) and reports whether fo has one.
func (ps *peerSync) encodeEarly(fo *followers) bool {
	if fo.early == nil {
		return false
	}
	raw, err := ps.laterRawRequest(fo.early)
	if err != nil {
		*fo = followers{}
		return false
	}
	fo.earlyRaw, fo.earlyMetadata = raw, raw.Metadata
	return true
}

// writeFollowers writes, before the response in hand is validated, the
// request that follows it in lane l, or the first requests of every lane
// when it spreads the sync. Nothing is written after a complete response
// on this stream: those lanes go on on the next one. A failed write is
// returned for the caller to report once the response is handled: the page
// in hand is still good, but the stream is not.
func (ps *peerSync) writeFollowers(x *exchange, l *lane, fo *followers) error {
	if fo.spread != nil {
		fo.lanes = make([]*lane, len(fo.spread))
		fo.lanes[0] = l
		for i := 1; i < len(fo.spread); i++ {
			fo.lanes[i] = &lane{index: l.index + i, req: fo.spread[i]}
		}
	}
	if fo.early == nil || x.completed {
		return nil
	}
	if fo.spread == nil {
		if err := ps.send(x, l, fo.early, fo.earlyRaw); err != nil {
			return err
		}
		fo.earlyWritten = true
		return nil
	}
	for i, req := range fo.spread {
		raw := fo.earlyRaw
		if i > 0 {
			raw = nil
		}
		if err := ps.send(x, fo.lanes[i], req, raw); err != nil {
			return err
		}
		if i == 0 {
			fo.earlyWritten = true
		} else {
			fo.lanes[i].written = true
		}
	}
	return nil
}

// checkPipelined checks that next, the request sub returned after
// validating a response, is the early one it gave before (early, as
// written; nil when it said the lane ends).
func (ps *peerSync) checkPipelined(sub Subprotocol, early []byte, next *Request) error {
	switch {
	case next == nil && early == nil:
		return nil
	case next == nil:
		return fmt.Errorf("%w: %s sent a request to %s and then returned none", ErrPipelineMismatch, sub.Name(), ps.p)
	case early == nil:
		return fmt.Errorf("%w: %s ended a lane with %s and then returned a request", ErrPipelineMismatch, sub.Name(), ps.p)
	}
	raw, err := ps.laterRawRequest(next)
	if err != nil {
		return err
	}
	if !bytes.Equal(raw.Metadata, early) {
		return fmt.Errorf("%w: %s sent %s to %s and then returned %s", ErrPipelineMismatch, sub.Name(), early, ps.p, raw.Metadata)
	}
	return nil
}

// precheck has a Prechecker check f's page while the page before it is
// validated and stored (see Prechecker). It runs on fetchAhead's goroutine.
func (ps *peerSync) precheck(ctx context.Context, f fetched) fetched {
	if f.err != nil || f.resp.Complete && len(f.resp.Orders) == 0 {
		return f
	}
	if pc, ok := f.sub.(Prechecker); ok {
		pc.PrecheckResponse(ctx, f.resp)
	}
	return f
}
