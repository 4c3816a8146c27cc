package ordersync

import (
	"bytes"
	"context"
	"encoding/json"
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
// that writes a request, reads a response, hands it to the subprotocol and
// decides, with an outcome, whether the sync goes on, on this stream or a
// new one, now or in a later round. With a Pipeliner subprotocol the loop
// runs pipelined: it writes the next request and reads its response while
// the subprotocol validates the page in hand.

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
	// done: the provider said it is complete (or the subprotocol asked for
	// nothing more). The sync is over.
	done
	// nextStream: the provider closed the stream cleanly after serving
	// pages on it, as it does at its per-stream limit. The sync goes on at
	// once on a new stream.
	nextStream
	// resumeLater: the stream broke off through no proven fault of the
	// provider. A later round resumes the sync from its next request.
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
		ps.log.WithFields(logrus.Fields{"subprotocol": point.sub.Name(), "pages": point.pages}).Debug("ordersync: resuming sync")
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

// heldEverything reports whether the chosen subprotocol showed, in a sync
// that delivered no valid order, that the requester already held the
// provider's non-empty set (see InSyncReporter).
func (ps *peerSync) heldEverything() bool {
	r, ok := ps.sub.(InSyncReporter)
	return ok && r.InSync(ps.p)
}

// exchange is the requester's end of one stream of a sync.
type exchange struct {
	stream        network.Stream
	reader        *framing.Reader
	writer        *framing.Writer
	read, written meter
	// ahead yields the response to a request written before the page in
	// hand was validated, read meanwhile; nil when none is on its way.
	ahead <-chan fetched
	// early is that request, as written.
	early *earlyRequest
	pages int // taken on this stream
	// sent is when the request whose response comes next was written,
	// sentEarly when the pipelined one after it was.
	sent, sentEarly time.Time
}

// runStream runs the sync on one new stream, until the outcome says what
// the sync does next.
func (ps *peerSync) runStream(ctx context.Context) (out outcome, err error) {
	s := ps.s
	stream, err := s.node.NewStream(ctx, ps.p, ID)
	if err != nil {
		s.score.unexpectedDisconnect(ps.p)
		return resumeLater, fmt.Errorf("ordersync: opening a stream to %s: %w", ps.p, err)
	}
	s.tracer.StreamOpened(RoleRequester)
	defer s.tracer.StreamClosed(RoleRequester)
	// The reset wakes a read or write blocked on the stream when ctx ends.
	stopReset := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stopReset()

	x := &exchange{stream: stream}
	mem := &reservation{scope: stream.Scope()}
	defer func() {
		if out == done && x.ahead == nil {
			_ = stream.Close()
		} else {
			_ = stream.Reset()
		}
		if x.ahead != nil {
			<-x.ahead // the reset ends its read; its buffer is reserved in mem
		}
		mem.release()
	}()
	if err := stream.Scope().SetService(serviceName); err != nil {
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

// step is one turn of a stream's loop: the request (unless it went out
// early), its response, and what the subprotocol makes of it.
func (ps *peerSync) step(ctx context.Context, x *exchange) (outcome, error) {
	s := ps.s
	if x.early == nil {
		x.sent = time.Now()
		err := ps.writeRequest(x, ps.nextRawRequest)
		if err != nil {
			return ps.writeFailed(ctx, err)
		}
	}
	// A response read ahead may be in hand when ctx ends: stop as an
	// unpipelined sync would, at its next read or write.
	if err := ctx.Err(); err != nil {
		return resumeLater, fmt.Errorf("ordersync: sync with %s: %w", ps.p, err)
	}
	f := ps.nextResponse(x)
	if f.err != nil {
		return ps.fetchFailed(ctx, x, f)
	}
	s.score.validMessage(ps.p)
	sub, resp := f.sub, f.resp
	ps.sub = sub
	roundTrip := f.at.Sub(x.sent)

	if err := ps.checkBounds(resp); err != nil {
		s.score.tooLongSync(ps.p)
		ps.log.WithError(err).Warn("ordersync: provider cut off")
		return abort, err
	}

	// Pipelined: ask for the next page before checking this one, so that
	// the provider builds it while this one is verified, and read and
	// decode it meanwhile too.
	x.sentEarly = time.Now()
	early, earlyErr := ps.writeEarlyRequest(ctx, x, resp)
	x.early = early
	if early != nil && earlyErr == nil {
		x.ahead = ps.fetchAhead(x)
	}

	next, valid, err := sub.HandleOrderSyncResponse(ctx, resp)
	if err != nil {
		// The request stays ps.next: if ctx ended, the page is asked for
		// again on resuming, and counted then. A request written early
		// does no harm: the stream is reset.
		err = pageError{fmt.Errorf("ordersync: %s response from %s: %w", sub.Name(), ps.p, err)}
		if ctx.Err() != nil {
			return resumeLater, err
		}
		s.tracer.PageReceived(ps.p, sub.Name(), roundTrip, len(resp.Orders), valid)
		return abort, err
	}
	x.pages++
	ps.recordPage(sub, roundTrip, len(resp.Orders), valid)
	if early != nil {
		if err := ps.checkPipelined(sub, early, next); err != nil {
			ps.log.WithError(err).Warn("ordersync: pipelined request mismatch")
			return abort, err
		}
		x.sent = x.sentEarly
	}
	if resp.Complete || next == nil {
		return done, nil
	}
	ps.next = next
	if earlyErr != nil {
		x.early = nil
		return ps.writeFailed(ctx, earlyErr)
	}
	return nextPage, nil
}

// writeFailed is the outcome of a request that could not be written.
func (ps *peerSync) writeFailed(ctx context.Context, err error) (outcome, error) {
	if ctx.Err() == nil {
		ps.s.score.unexpectedDisconnect(ps.p)
	}
	return resumeLater, err
}

// fetchFailed is the outcome of a response that could not be read or
// parsed.
func (ps *peerSync) fetchFailed(ctx context.Context, x *exchange, f fetched) (outcome, error) {
	switch {
	case f.err == errProviderClosed && x.pages > 0 && ctx.Err() == nil:
		// The provider has hit its per-stream limit.
		return nextStream, f.err
	case f.resumable:
		return resumeLater, f.err
	}
	return abort, f.err
}

// recordPage counts a page that the subprotocol took in.
func (ps *peerSync) recordPage(sub Subprotocol, roundTrip time.Duration, orders, valid int) {
	ps.pages++
	ps.orders += orders
	ps.valid += valid
	if valid > 0 && !ps.scoredOrders {
		ps.scoredOrders = true
		ps.s.score.receivedOrders(ps.p)
	}
	ps.s.tracer.PageReceived(ps.p, sub.Name(), roundTrip, orders, valid)
	ps.log.WithFields(logrus.Fields{"subprotocol": sub.Name(), "orders": orders, "validOrders": valid}).Trace("ordersync: page received")
}

// checkBounds cuts off a provider whose response would take the sync past
// its bounds, before the page is handed to the subprotocol. The response
// that completes the sync always passes, so a provider holding exactly the
// most orders (or pages) a sync takes is synced in full.
func (ps *peerSync) checkBounds(resp *Response) error {
	if resp.Complete {
		return nil
	}
	cfg := &ps.s.cfg
	if ps.pages+1 > cfg.maxPagesPerSync {
		return fmt.Errorf("%w: %d pages from %s without a complete response", ErrTooManyPages, ps.pages, ps.p)
	}
	if ps.orders+len(resp.Orders) > cfg.maxOrdersPerSync {
		return fmt.Errorf("%w: %d orders from %s, and %d more, without a complete response", ErrTooManyOrders, ps.orders, ps.p, len(resp.Orders))
	}
	return nil
}

// Requests.

// writeRequest writes the request build makes within the message timeout.
func (ps *peerSync) writeRequest(x *exchange, build func() (*rawRequest, error)) error {
	req, err := build()
	if err != nil {
		return err
	}
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

// nextRawRequest is the sync's next request: the first request of a sync
// offers every subprotocol; later ones, and the first one on a stream that
// resumes a sync, name only the chosen subprotocol.
func (ps *peerSync) nextRawRequest() (*rawRequest, error) {
	if ps.sub == nil {
		ps.s.resetSyncState(ps.p)
		return ps.s.firstRequest()
	}
	return ps.laterRawRequest(ps.next)
}

// laterRawRequest is next as a request of the chosen subprotocol.
func (ps *peerSync) laterRawRequest(next *Request) (*rawRequest, error) {
	var metadata any
	if next != nil {
		metadata = next.Metadata
	}
	return wire.LaterRequest(ps.sub.Name(), metadata)
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

// firstRequest is the request that starts a sync from the beginning.
func (s *Service) firstRequest() (*rawRequest, error) {
	metadata := make([]json.RawMessage, len(s.subprotocols))
	for i, sub := range s.subprotocols {
		m, err := sub.GenerateFirstRequestMetadata()
		if err != nil {
			return nil, fmt.Errorf("ordersync: %s first request metadata: %w", sub.Name(), err)
		}
		metadata[i] = m
	}
	return wire.FirstRequest(s.names, metadata)
}

// Pipelining.

// earlyRequest is a request written before its response was validated.
type earlyRequest struct {
	metadata []byte // as written
}

// writeEarlyRequest writes the request that follows resp before resp is
// validated, when the subprotocol is a Pipeliner that can tell it and resp
// is not complete (resp has passed the per-sync bounds, and the answer to
// the next request may complete the sync whatever they are).
// It returns the request written, or nil when none was. A failed write is
// returned for the caller to report once resp is handled: the page in hand
// is still good, but the stream is not.
func (ps *peerSync) writeEarlyRequest(ctx context.Context, x *exchange, resp *Response) (*earlyRequest, error) {
	pl, ok := ps.sub.(Pipeliner)
	if !ok || resp.Complete {
		return nil, nil
	}
	next, err := pl.NextRequest(ctx, resp)
	if err != nil || next == nil {
		// HandleOrderSyncResponse decides: it reports the same error, or
		// returns a request to write after it.
		return nil, nil
	}
	raw, err := ps.laterRawRequest(next)
	if err != nil {
		return nil, nil
	}
	return &earlyRequest{metadata: raw.Metadata}, ps.writeRequest(x, func() (*rawRequest, error) { return raw, nil })
}

// checkPipelined checks that next, the request sub returned after
// validating a response, is the early one already written for it.
func (ps *peerSync) checkPipelined(sub Subprotocol, early *earlyRequest, next *Request) error {
	if next == nil {
		return fmt.Errorf("%w: %s sent a request to %s and then returned none", ErrPipelineMismatch, sub.Name(), ps.p)
	}
	raw, err := ps.laterRawRequest(next)
	if err != nil {
		return err
	}
	if !bytes.Equal(raw.Metadata, early.metadata) {
		return fmt.Errorf("%w: %s sent %s to %s and then returned %s", ErrPipelineMismatch, sub.Name(), early.metadata, ps.p, raw.Metadata)
	}
	return nil
}

// Responses.

// fetched is a response read and parsed, or why none was.
type fetched struct {
	sub  Subprotocol
	resp *Response
	err  error
	// resumable tells, with err, whether the sync may resume from ps.next.
	resumable bool
	// at is when the response had been read.
	at time.Time
}

// nextResponse is the response to the request last written: the one read
// ahead if it is on its way, else one read now.
func (ps *peerSync) nextResponse(x *exchange) fetched {
	if x.ahead != nil {
		f := <-x.ahead
		x.ahead = nil
		return f
	}
	return ps.fetch(x)
}

// fetch reads and parses the next response, scoring the provider for a bad
// one. It only reads ps.sub of the sync's state, so it may run while the
// previous page is being validated (see fetchAhead).
func (ps *peerSync) fetch(x *exchange) fetched {
	s := ps.s
	msg, err := ps.readResponse(x)
	at := time.Now()
	s.tracer.BytesRead(RoleRequester, ps.p, int(x.read.since(x.reader.BytesRead())))
	if err != nil {
		return fetched{err: err, resumable: !errors.Is(err, ErrInvalidMessage) && !errors.Is(err, ErrMessageTooLarge)}
	}
	sub, resp, err := ps.parseResponse(msg)
	if err != nil {
		s.score.invalidMessage(ps.p)
		ps.log.WithError(err).Warn("ordersync: invalid response")
		return fetched{err: err}
	}
	return fetched{sub: sub, resp: resp, at: at}
}

// fetchAhead fetches the next response on a goroutine of its own; the
// channel yields it. The caller must receive from the channel before it
// reads from the stream again or releases the stream's memory.
func (ps *peerSync) fetchAhead(x *exchange) <-chan fetched {
	ch := make(chan fetched, 1)
	go func() { ch <- ps.fetch(x) }()
	return ch
}

// readResponse reads the next response within the message timeout.
func (ps *peerSync) readResponse(x *exchange) ([]byte, error) {
	s := ps.s
	if err := x.stream.SetReadDeadline(time.Now().Add(s.cfg.messageTimeout)); err != nil {
		return nil, err
	}
	msg, err := x.reader.ReadMessage()
	switch {
	case err == nil:
		return msg, nil
	case err == io.EOF:
		return nil, errProviderClosed
	}
	switch s.score.readFailed(ps.p, err) {
	case readTooLarge:
		ps.log.WithField("limit", s.cfg.maxResponseSize).Warn("ordersync: response too large")
		return nil, fmt.Errorf("%w: from %s: %w", ErrMessageTooLarge, ps.p, err)
	case readInvalid:
		ps.log.WithError(err).Warn("ordersync: invalid response")
		return nil, fmt.Errorf("%w: from %s: %w", ErrInvalidMessage, ps.p, err)
	}
	return nil, fmt.Errorf("ordersync: reading a response from %s: %w", ps.p, err)
}

// parseResponse checks a response and turns it into the Response for its
// subprotocol. The error wraps ErrInvalidMessage.
func (ps *peerSync) parseResponse(msg []byte) (Subprotocol, *Response, error) {
	var raw rawResponse
	if err := wire.DecodeResponse(msg, &raw, ps.s.cfg.maxOrdersPerResponse); err != nil {
		return nil, nil, fmt.Errorf("%w: response from %s: %v", ErrInvalidMessage, ps.p, err)
	}
	if raw.Type != TypeResponse {
		return nil, nil, fmt.Errorf("%w: response from %s has type %q, want %q", ErrInvalidMessage, ps.p, raw.Type, TypeResponse)
	}
	sub := ps.sub
	if sub == nil {
		sub = ps.s.byName[raw.Subprotocol]
		if sub == nil {
			return nil, nil, fmt.Errorf("%w: response from %s names subprotocol %q, which was not offered", ErrInvalidMessage, ps.p, raw.Subprotocol)
		}
	} else if raw.Subprotocol != sub.Name() {
		return nil, nil, fmt.Errorf("%w: response from %s names subprotocol %q, want %q", ErrInvalidMessage, ps.p, raw.Subprotocol, sub.Name())
	}
	parsed, err := sub.ParseResponseMetadata(wire.OrNull(raw.Metadata))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s response metadata from %s: %v", ErrInvalidMessage, sub.Name(), ps.p, err)
	}
	return sub, &Response{ProviderID: ps.p, Orders: raw.Orders, Complete: raw.Complete, Metadata: parsed}, nil
}

// pageError is an error of the subprotocol's HandleOrderSyncResponse, so
// that syncResult can tell it from a broken stream.
type pageError struct{ error }

func (e pageError) Unwrap() error { return e.error }

// syncResult classifies how a sync ended, for the MetricsTracer.
func syncResult(ctx context.Context, err error) SyncResult {
	var pe pageError
	switch {
	case err == nil:
		return SyncOK
	case ctx.Err() != nil:
		return SyncCanceled
	case errors.Is(err, ErrNoOrdersFromPeer):
		return SyncNoOrders
	case errors.Is(err, ErrInvalidMessage), errors.Is(err, ErrMessageTooLarge):
		return SyncInvalidMessage
	case errors.Is(err, ErrTooManyPages), errors.Is(err, ErrTooManyOrders):
		return SyncCutOff
	case errors.As(err, &pe), errors.Is(err, ErrPipelineMismatch):
		return SyncRejectedPage
	case isTimeout(err):
		return SyncTimeout
	}
	return SyncStreamError
}
