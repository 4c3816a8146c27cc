package ordersync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/wire"
	"github.com/ordersync/ordersync/internal/wire/framing"
)

// This file is the requester's exchange with one provider: a sync runs on
// one stream after another (run), and each stream is one loop (runStream)
// that writes requests, reads a response, hands it to the subprotocol and
// decides, with an outcome, whether the sync goes on, on this stream or a
// new one, now or in a later round. With a Pipeliner subprotocol the loop
// runs pipelined: it writes the next request and reads its response while
// the subprotocol validates the page in hand (pipeline.go). With a
// Spreader it runs several lanes, each with a request in flight (lanes.go,
// WithLanes). The functions follow the order a stream calls them in; the
// messages' envelopes are messages.go's, the bounds bounds.go's, and the
// classification of failures classify.go's.

// errProviderClosed means the provider closed the stream cleanly before a
// complete response: it had served its pages for this stream, or it went
// away.
var errProviderClosed = errors.New("ordersync: provider closed the stream before the sync was complete")

// outcome is how a stream of a sync ended, and so what the sync does next.
type outcome int

const (
	// nextPage: the sync goes on on this stream. Only a turn of a
	// stream's loop ends so; runStream never does.
	nextPage outcome = iota
	// done: every lane has ended: the provider said it is complete (or
	// the subprotocol asked for nothing more). The sync is over.
	done
	// nextStream: the provider closed the stream cleanly after serving
	// pages on it, as it does at its per-stream limit, or a complete
	// response ended some lanes while others are left, or the stream sat
	// idle too long (idleStreamLimit). The sync goes on at once on a new
	// stream.
	nextStream
	// resumeLater: the stream broke off through no proven fault of the
	// provider. A later round resumes the sync from its lanes' requests.
	resumeLater
	// abort: the provider misbehaved, or the sync passed its bounds. The
	// sync ends and is not resumed.
	abort
)

// peerSync is one sync, as a requester, with one provider.
type peerSync struct {
	s   *Service
	p   peer.ID
	log logrus.FieldLogger
	resumePoint
	scoredOrders bool // received-orders already set in this sync
}

// syncWithPeer syncs with provider p, resuming where an earlier sync broke
// off if there was one. It returns how many valid orders the provider
// delivered in this call, and nil if the sync (counting what it got before
// a resume) completed with at least one.
func (s *Service) syncWithPeer(ctx context.Context, p peer.ID) (int, error) {
	ps := &peerSync{s: s, p: p, log: s.log.WithField("provider", p)}
	validBefore := 0
	if point, ok := s.resume.take(p); ok {
		validBefore = point.valid
		ps.resumePoint = point
		ps.log.WithFields(logrus.Fields{"subprotocol": point.sub.Name(), "pages": point.pages, "lanes": len(point.lanes)}).Debug("ordersync: resuming sync")
	} else {
		ps.lanes = []*lane{{}}
	}
	start := time.Now()
	err := ps.run(ctx)
	subName := ""
	if ps.sub != nil {
		subName = ps.sub.Name()
	}
	s.tracer.SyncEnded(p, subName, syncResult(ctx, err), time.Since(start), err)
	ps.log.WithFields(logrus.Fields{"pages": ps.pages, "validOrders": ps.valid}).WithError(err).Debug("ordersync: sync ended")
	return ps.valid - validBefore, err
}

// run runs the sync on as many streams as it takes.
func (ps *peerSync) run(ctx context.Context) error {
	for {
		out, err := ps.runStream(ctx)
		switch out {
		case done:
			if ps.valid == 0 && !ps.heldEverything() {
				return ErrNoOrdersFromPeer
			}
			return nil
		case nextStream:
			continue
		case resumeLater:
			if ps.sub != nil {
				ps.s.resume.put(ps.p, ps.resumePoint)
			}
		}
		return err
	}
}

// exchange is the requester's end of one stream of a sync.
type exchange struct {
	stream        network.Stream
	reader        *framing.Reader
	writer        *framing.Writer
	read, written meter
	// inFlight are the requests written and not yet answered, oldest
	// first: the provider answers in order, so the next response answers
	// inFlight[0]. There are never more than WithLanes of them.
	inFlight []sentRequest
	// ahead yields the response to inFlight[0], read while the page in
	// hand is validated; nil when none is being read.
	ahead <-chan fetched
	// completed is true once a complete response came on this stream:
	// nothing more is written on it.
	completed bool
	// lastRead is when the last response on the stream was read, and
	// idle is true once the stream sat with nothing asked on it for
	// longer than idleStreamLimit after it: nothing more is written on it
	// either.
	lastRead time.Time
	idle     bool
	pages    int // taken on this stream
	// first is the first request of a sync from the beginning, built
	// before the stream opened; nil once written, or when the sync
	// resumes.
	first *rawRequest
}

// idleStreamLimit bounds how long a stream may sit with nothing asked on it
// while the requester takes a page in, before the sync goes on, on a new
// stream: the provider waits for the next request only its own message
// timeout (5 s for a stream's first request, 30 s after it by default; its
// value is the provider's, unknown here), and a request written after it
// has closed the stream fails the sync and scores the provider for a
// disconnect it did not cause. A stream sits with nothing asked only while
// the next request depends on the page being taken in (a lane's end,
// reconcile's fetches, a subprotocol that does not pipeline), and that
// long only when taking it in waits: a first sync that waits for other
// providers' shares before it reconciles, a slow Validator.
const idleStreamLimit = time.Second

// sentRequest is a request written on a stream.
type sentRequest struct {
	lane *lane
	req  *Request
	at   time.Time // when it was written
}

// runStream runs the sync on one new stream, until the outcome says what
// the sync does next.
func (ps *peerSync) runStream(ctx context.Context) (out outcome, err error) {
	defer ps.recoverSyncing(&out, &err)
	s := ps.s
	// A sync from the beginning builds its first request before the
	// stream opens: the subprotocols' first-request metadata may take a
	// while (reconcile counts what the store holds), and a provider's
	// host resets a stream whose protocol is not negotiated, by the first
	// write, within its negotiation timeout (10 s in go-libp2p).
	var first *rawRequest
	if ps.sub == nil {
		if first, err = ps.rawRequest(nil); err != nil {
			return abort, fmt.Errorf("ordersync: first request to %s: %w", ps.p, err)
		}
	}
	stream, err := s.node.NewStream(ctx, ps.p, ID)
	if err != nil {
		if !protocolNotSupported(err) {
			s.score.unexpectedDisconnect(ps.p)
		}
		return resumeLater, fmt.Errorf("ordersync: opening a stream to %s: %w", ps.p, err)
	}
	s.tracer.StreamOpened(RoleRequester)
	defer s.tracer.StreamClosed(RoleRequester)
	// The reset wakes a read or write blocked on the stream when ctx ends.
	stopReset := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stopReset()

	x := &exchange{stream: stream, first: first}
	for _, l := range ps.lanes {
		l.written = false
	}
	mem := &reservation{scope: stream.Scope()}
	defer func() {
		if (out == done || out == nextStream) && x.ahead == nil && len(x.inFlight) == 0 {
			_ = stream.Close()
		} else {
			_ = stream.Reset()
		}
		if x.ahead != nil {
			<-x.ahead // the reset ends its read; its buffer is reserved in mem
		}
		mem.release()
	}()
	if err := stream.Scope().SetService(ServiceName); err != nil {
		return resumeLater, fmt.Errorf("ordersync: stream to %s: resource manager: %w", ps.p, err)
	}
	if x.reader, err = framing.NewReader(stream, s.cfg.maxResponseSize, mem.reserve); err != nil {
		return resumeLater, fmt.Errorf("ordersync: stream to %s: %w", ps.p, err)
	}
	x.writer = framing.NewWriter(stream)

	for {
		if out, err = ps.step(ctx, x); out != nextPage {
			return out, err
		}
	}
}

// step is one turn of a stream's loop: the lanes' requests not yet written,
// the next response, and what the subprotocol makes of it.
func (ps *peerSync) step(ctx context.Context, x *exchange) (outcome, error) {
	s := ps.s
	if err := ps.fill(x); err != nil {
		return ps.writeFailed(ctx, err)
	}
	if len(x.inFlight) == 0 {
		// Every lane left waits for a stream on which requests may be
		// written again (fill writes all of them otherwise).
		return nextStream, nil
	}
	// A response read ahead may be in hand when ctx ends: stop as an
	// unpipelined sync would, at its next read or write.
	if err := ctx.Err(); err != nil {
		return resumeLater, fmt.Errorf("ordersync: sync with %s: %w", ps.p, err)
	}
	sent, f := ps.nextResponse(x)
	if f.err != nil {
		return ps.fetchFailed(ctx, x, f)
	}
	x.lastRead = f.at
	s.score.validMessage(ps.p)
	if sent.lane.ended {
		// A lane after one that completed: nothing to take in.
		return nextPage, nil
	}
	sub, resp := f.sub, f.resp
	ps.sub = sub
	roundTrip := f.at.Sub(sent.at)

	// A lane's next request tells whether the response ends the lane,
	// which the bounds need to know; in one lane only a complete response
	// ends it, and nothing is asked of the subprotocol for a response cut
	// off.
	var fo followers
	if ps.spread {
		fo = ps.followInLane(ctx, sent, resp)
	}
	if err := ps.checkBounds(resp, fo.endsLane || resp.Complete); err != nil {
		s.score.tooLongSync(ps.p)
		ps.log.WithError(err).Warn("ordersync: provider cut off")
		return abort, err
	}
	if !ps.spread {
		var err error
		if fo, err = ps.follow(ctx, resp); err != nil {
			return abort, err
		}
	}

	// Pipelined: ask for what follows this page before checking it, so
	// that the provider builds it while this one is verified, and read
	// and decode the next response meanwhile too.
	writeErr := ps.writeFollowers(x, sent.lane, &fo)
	if len(x.inFlight) > 0 {
		x.ahead = ps.fetchAhead(ctx, x)
	}

	next, valid, err := ps.handle(ctx, sub, sent, resp)
	if err != nil {
		// The lane's request stays as it was: if ctx ended, the page is
		// asked for again on resuming, and counted then. Requests written
		// early do no harm: the stream is reset.
		err = pageError{fmt.Errorf("ordersync: %s response from %s: %w", sub.Name(), ps.p, err)}
		if ctx.Err() != nil {
			return resumeLater, err
		}
		if errors.Is(err, ErrStore) {
			ps.log.WithError(err).Warn("ordersync: store failed")
		}
		s.tracer.PageReceived(ps.p, sub.Name(), roundTrip, len(resp.Orders), valid)
		return abort, err
	}
	x.pages++
	ps.recordPage(sub, roundTrip, len(resp.Orders), valid, !fo.endsLane)
	if fo.known && !resp.Complete {
		if err := ps.checkPipelined(sub, fo.earlyMetadata, next); err != nil {
			ps.log.WithError(err).Warn("ordersync: pipelined request mismatch")
			return abort, err
		}
	}
	ps.advance(x, sent.lane, resp, next, &fo)
	if len(ps.lanes) == 0 {
		return done, nil
	}
	if writeErr != nil {
		return ps.writeFailed(ctx, writeErr)
	}
	return nextPage, nil
}

// fill writes the request of each lane not yet written on this stream,
// keeping at most WithLanes requests in flight, unless a complete response
// came on it or it sat idle too long.
func (ps *peerSync) fill(x *exchange) error {
	if len(x.inFlight) == 0 && x.ahead == nil && !x.lastRead.IsZero() && time.Since(x.lastRead) > idleStreamLimit {
		x.idle = true
	}
	for _, l := range ps.lanes {
		if x.completed || x.idle || len(x.inFlight) >= ps.s.cfg.lanes {
			return nil
		}
		if l.written {
			continue
		}
		if err := ps.send(x, l, l.req, nil); err != nil {
			return err
		}
	}
	return nil
}

// send writes req, a request of lane l, whose metadata is raw if it was
// already encoded.
func (ps *peerSync) send(x *exchange, l *lane, req *Request, raw *rawRequest) error {
	if raw == nil && x.first != nil {
		raw, x.first = x.first, nil
	}
	if raw == nil {
		var err error
		if raw, err = ps.rawRequest(req); err != nil {
			return err
		}
	}
	at := time.Now()
	if err := ps.writeRequest(x, raw); err != nil {
		return err
	}
	x.inFlight = append(x.inFlight, sentRequest{lane: l, req: req, at: at})
	if req == l.req {
		l.written = true
	}
	return nil
}

// writeRequest writes req within the message timeout.
func (ps *peerSync) writeRequest(x *exchange, req *rawRequest) error {
	defer func() {
		ps.s.tracer.BytesWritten(RoleRequester, ps.p, int(x.written.since(x.writer.BytesWritten())))
	}()
	if err := x.stream.SetWriteDeadline(time.Now().Add(ps.s.cfg.messageTimeout)); err != nil {
		return err
	}
	if err := x.writer.WriteValue(req); err != nil {
		return fmt.Errorf("ordersync: writing a request to %s: %w", ps.p, err)
	}
	return nil
}

// writeFailed is the outcome of a request that could not be written.
func (ps *peerSync) writeFailed(ctx context.Context, err error) (outcome, error) {
	if ctx.Err() == nil && !protocolNotSupported(err) {
		ps.s.score.unexpectedDisconnect(ps.p)
	}
	return resumeLater, err
}

// fetched is a response read and parsed, or why none was.
type fetched struct {
	sub  Subprotocol
	resp *Response
	err  error
	// resumable tells, with err, whether the sync may resume from its
	// lanes' requests.
	resumable bool
	// at is when the response had been read.
	at time.Time
}

// nextResponse is the response to the oldest request in flight, which it
// returns too: the one read ahead if it is on its way, else one read now.
func (ps *peerSync) nextResponse(x *exchange) (sentRequest, fetched) {
	sent := x.inFlight[0]
	x.inFlight = x.inFlight[1:]
	if x.ahead != nil {
		f := <-x.ahead
		x.ahead = nil
		return sent, f
	}
	return sent, ps.fetch(x)
}

// fetch reads and parses the next response, scoring the provider for a bad
// one. It only reads ps.sub of the sync's state, so it may run while the
// previous page is being validated (see fetchAhead).
func (ps *peerSync) fetch(x *exchange) fetched {
	s := ps.s
	raw, at, err := ps.readResponse(x)
	s.tracer.BytesRead(RoleRequester, ps.p, int(x.read.since(x.reader.BytesRead())))
	if err != nil {
		return fetched{err: err, resumable: !errors.Is(err, ErrInvalidMessage) && !errors.Is(err, ErrMessageTooLarge)}
	}
	sub, resp, err := ps.checkResponse(raw)
	if err != nil {
		s.score.invalidMessage(ps.p)
		ps.log.WithError(err).Warn("ordersync: invalid response")
		return fetched{err: err}
	}
	return fetched{sub: sub, resp: resp, at: at}
}

// readResponse reads and decodes the next response within the message
// timeout, scoring the provider for a bad one; at is when its last byte
// had been read.
func (ps *peerSync) readResponse(x *exchange) (raw *rawResponse, at time.Time, err error) {
	s := ps.s
	if err := x.stream.SetReadDeadline(time.Now().Add(s.cfg.messageTimeout)); err != nil {
		return nil, at, err
	}
	raw, at, readErr, err := ps.decodeResponse(x.reader)
	switch {
	case readErr == nil && err == nil:
		return raw, at, nil
	case readErr == nil:
		s.score.invalidMessage(ps.p)
		ps.log.WithError(err).Warn("ordersync: invalid response")
		return nil, at, ps.undecodable(err)
	case readErr == io.EOF:
		return nil, at, errProviderClosed
	}
	fault := classifyRead(readErr)
	s.score.badRead(ps.p, fault)
	switch fault {
	case readTooLarge:
		ps.log.WithField("limit", s.cfg.maxResponseSize).Warn("ordersync: response too large")
		return nil, at, fmt.Errorf("%w: from %s: %w", ErrMessageTooLarge, ps.p, readErr)
	case readInvalid:
		ps.log.WithError(readErr).Warn("ordersync: invalid response")
		return nil, at, fmt.Errorf("%w: from %s: %w", ErrInvalidMessage, ps.p, readErr)
	}
	return nil, at, fmt.Errorf("ordersync: reading a response from %s: %w", ps.p, readErr)
}

// decodeResponse reads the next response from r and decodes it as it
// arrives, window by window, so that the message is never in memory
// whole: a response near the size bound costs its orders and a window,
// not its bytes twice over besides. readErr is the stream's or the
// framing's error (io.EOF between messages), which wins over a decoding
// error, err, as when the message was read whole first: a response too
// large is scored as one even when it would not have decoded either.
func (ps *peerSync) decodeResponse(r *framing.Reader) (raw *rawResponse, at time.Time, readErr, err error) {
	if readErr = r.NextMessage(); readErr != nil {
		return nil, at, readErr, nil
	}
	raw = new(rawResponse)
	err = wire.DecodeResponseFrom(func(keep int) ([]byte, bool, error) {
		window, end, err := r.More(keep)
		if end && at.IsZero() {
			at = time.Now()
		}
		readErr = err
		return window, end, err
	}, raw, ps.s.cfg.maxOrdersPerResponse)
	if readErr != nil || err != nil {
		return nil, at, readErr, err
	}
	return raw, at, nil, nil
}

// fetchFailed is the outcome of a response that could not be read or
// parsed.
func (ps *peerSync) fetchFailed(ctx context.Context, x *exchange, f fetched) (outcome, error) {
	switch {
	case f.err == errProviderClosed && x.pages > 0 && ctx.Err() == nil:
		// The provider has hit its per-stream limit, or it closes after a
		// complete response as the original providers do, while lanes
		// are left.
		return nextStream, f.err
	case f.resumable && x.completed && ctx.Err() == nil:
		// After a complete response a provider may end the stream any
		// way it likes; the lanes left go on on a new one. Each stream
		// takes a response that ends a lane, so this happens at most once
		// per lane.
		return nextStream, f.err
	case f.resumable:
		return resumeLater, f.err
	}
	return abort, f.err
}

// fetchAhead fetches the next response on a goroutine of its own, and
// has it prechecked there (pipeline.go); the channel yields it. The caller
// must receive from the channel before it reads from the stream again or
// releases the stream's memory.
func (ps *peerSync) fetchAhead(ctx context.Context, x *exchange) <-chan fetched {
	ch := make(chan fetched, 1)
	go func() { ch <- ps.fetchRecovered(ctx, x) }()
	return ch
}

// handle has the subprotocol validate and take in resp, the answer to
// sent.
func (ps *peerSync) handle(ctx context.Context, sub Subprotocol, sent sentRequest, resp *Response) (*Request, int, error) {
	if ps.spread {
		return sub.(Spreader).HandleLaneResponse(ctx, sent.req, resp)
	}
	return sub.HandleOrderSyncResponse(ctx, resp)
}

// recordPage counts a page that the subprotocol took in; counted tells
// whether it counts towards the per-sync bounds.
func (ps *peerSync) recordPage(sub Subprotocol, roundTrip time.Duration, orders, valid int, counted bool) {
	if counted {
		ps.pages++
		ps.orders += orders
	}
	ps.valid += valid
	if valid > 0 && !ps.scoredOrders {
		ps.scoredOrders = true
		ps.s.score.receivedOrders(ps.p)
	}
	ps.s.tracer.PageReceived(ps.p, sub.Name(), roundTrip, orders, valid)
	ps.log.WithFields(logrus.Fields{"subprotocol": sub.Name(), "orders": orders, "validOrders": valid}).Trace("ordersync: page received")
}

// heldEverything reports whether the chosen subprotocol showed, in a sync
// that delivered no valid order, that the requester already held the
// provider's non-empty set (see InSyncReporter).
func (ps *peerSync) heldEverything() bool {
	r, ok := ps.sub.(InSyncReporter)
	return ok && r.InSync(ps.p)
}

// resetSyncState tells the subprotocols that keep per-provider requester
// state that a sync with p starts from the beginning.
func (s *Service) resetSyncState(p peer.ID) {
	for _, sub := range s.subprotocols {
		if r, ok := sub.(SyncResetter); ok {
			r.ResetSync(p)
		}
	}
}
