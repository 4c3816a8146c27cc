package ordersync

// This file is a sync's lanes: the chains of requests a Spreader splits it
// into (one until it does), and how a response moves its lane on or ends
// it.

// lane is one chain of requests of a sync (see Spreader).
type lane struct {
	// index is the lane's place in Spread's order: a complete response
	// ends this lane and those of higher index.
	index int
	// req is the lane's request whose response has not been taken in:
	// unanswered, or answered and being validated. nil is the sync's
	// first request, before a subprotocol is chosen.
	req *Request
	// written is true when req was written on the current stream.
	written bool
	// ended is true once the lane is done; responses still on their way
	// to its requests are dropped.
	ended bool
}

// advance moves lane l past the response it has taken in, whose next
// request is next: to its next request, or to its end (and, after a
// complete response, the end of every lane after it too).
func (ps *peerSync) advance(x *exchange, l *lane, resp *Response, next *Request, fo *followers) {
	switch {
	case resp.Complete && next != nil:
		// The subprotocol goes on after the provider's last page (as
		// reconcile does after paging a share): this lane asks on a new
		// stream, and the lanes after it end.
		x.completed = true
		ps.endLanes(func(o *lane) bool { return o.index > l.index })
		l.req, l.written = next, false
	case resp.Complete:
		x.completed = true
		ps.endLanes(func(o *lane) bool { return o.index >= l.index })
	case next == nil:
		ps.endLanes(func(o *lane) bool { return o == l })
	case fo.spread != nil:
		l.req, l.written = fo.spread[0], fo.earlyWritten
		ps.lanes = append(ps.lanes, fo.lanes[1:]...)
		ps.spread = true
		ps.log.WithField("lanes", len(ps.lanes)).Debug("ordersync: sync spread into lanes")
	default:
		l.req, l.written = next, fo.earlyWritten
	}
}

// endLanes ends the lanes that end says have.
func (ps *peerSync) endLanes(end func(*lane) bool) {
	kept := ps.lanes[:0]
	for _, l := range ps.lanes {
		if end(l) {
			l.ended = true
		} else {
			kept = append(kept, l)
		}
	}
	clear(ps.lanes[len(kept):])
	ps.lanes = kept
}
