package ordersync

import (
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

// errProviderClosed means the provider closed the stream cleanly before a
// complete response: it had served its pages for this stream, or it went
// away.
var errProviderClosed = errors.New("ordersync: provider closed the stream before the sync was complete")

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
		pages, done, resumable, err := ps.runStream(ctx)
		if done {
			if ps.valid == 0 && !ps.heldEverything() {
				return ErrNoOrdersFromPeer
			}
			return nil
		}
		// A provider that closed cleanly after serving pages has hit its
		// per-stream limit: go on at once on a new stream.
		if err == errProviderClosed && pages > 0 && ctx.Err() == nil {
			continue
		}
		if resumable && ps.sub != nil {
			ps.s.resume.put(ps.p, ps.resumePoint)
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

// runStream runs the sync on one new stream. It returns the pages received
// on it, whether the sync is done, and if not, whether it can be resumed
// later from ps.next.
func (ps *peerSync) runStream(ctx context.Context) (pages int, done, resumable bool, err error) {
	s := ps.s
	stream, err := s.node.NewStream(ctx, ps.p, ID)
	if err != nil {
		s.node.AddPeerScore(ps.p, tagUnexpectedDisconnect, scoreUnexpectedDisconnect)
		return 0, false, true, fmt.Errorf("ordersync: opening a stream to %s: %w", ps.p, err)
	}
	s.tracer.StreamOpened(RoleRequester)
	defer s.tracer.StreamClosed(RoleRequester)
	// The reset wakes a read or write blocked on the stream when ctx ends.
	stopReset := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stopReset()

	mem := &reservation{scope: stream.Scope()}
	var ahead <-chan fetched // the next response, read while a page is validated
	defer func() {
		if done && ahead == nil {
			_ = stream.Close()
		} else {
			_ = stream.Reset()
		}
		if ahead != nil {
			<-ahead // the reset ends its read; its buffer is reserved in mem
		}
		mem.release()
	}()
	if err := stream.Scope().SetService(serviceName); err != nil {
		return 0, false, true, fmt.Errorf("ordersync: stream to %s: resource manager: %w", ps.p, err)
	}
	reader, err := framing.NewReader(stream, s.cfg.maxResponseSize, mem.reserve)
	if err != nil {
		return 0, false, true, fmt.Errorf("ordersync: stream to %s: %w", ps.p, err)
	}
	writer := framing.NewWriter(stream)

	var read, written meter
	pipelined := false // the request for the next page is already written
	// sent is when the request whose response comes next was written,
	// sentEarly when the pipelined one after it was.
	var sent, sentEarly time.Time
	for {
		if !pipelined {
			sent = time.Now()
			err := ps.writeRequest(stream, writer)
			s.tracer.BytesWritten(RoleRequester, ps.p, int(written.since(writer.BytesWritten())))
			if err != nil {
				if ctx.Err() == nil {
					s.node.AddPeerScore(ps.p, tagUnexpectedDisconnect, scoreUnexpectedDisconnect)
				}
				return pages, false, true, err
			}
		}
		pipelined = false

		// A response read ahead may be in hand when ctx ends: stop as an
		// unpipelined sync would, at its next read or write.
		if err := ctx.Err(); err != nil {
			return pages, false, true, fmt.Errorf("ordersync: sync with %s: %w", ps.p, err)
		}
		var f fetched
		if ahead != nil {
			f, ahead = <-ahead, nil
		} else {
			f = ps.fetch(stream, reader, &read)
		}
		if f.err != nil {
			return pages, false, f.resumable, f.err
		}
		s.node.SetPeerScore(ps.p, tagValidMessage, scoreValidMessage)
		sub, resp := f.sub, f.resp
		ps.sub = sub
		roundTrip := f.at.Sub(sent)

		// Ask for the next page before checking this one, so that the
		// provider builds it while this one is verified, and read and
		// decode it meanwhile too.
		sentEarly = time.Now()
		early, earlyErr := ps.writeEarlyRequest(ctx, stream, writer, resp)
		s.tracer.BytesWritten(RoleRequester, ps.p, int(written.since(writer.BytesWritten())))
		if early != nil && earlyErr == nil {
			ahead = ps.fetchAhead(stream, reader, &read)
		}

		next, valid, err := sub.HandleOrderSyncResponse(ctx, resp)
		if err != nil {
			// The request stays ps.next: if ctx ended, the page is asked
			// for again on resuming, and counted then. A request written
			// early does no harm: the stream is reset.
			if ctx.Err() == nil {
				s.tracer.PageReceived(ps.p, sub.Name(), roundTrip, len(resp.Orders), valid)
			}
			return pages, false, ctx.Err() != nil, pageError{fmt.Errorf("ordersync: %s response from %s: %w", sub.Name(), ps.p, err)}
		}
		pages++
		ps.recordPage(sub, roundTrip, len(resp.Orders), valid)
		if early != nil {
			if err := ps.checkPipelined(sub, early, next); err != nil {
				ps.log.WithError(err).Warn("ordersync: pipelined request mismatch")
				return pages, false, false, err
			}
			sent = sentEarly
		}
		if resp.Complete || next == nil {
			return pages, true, false, nil
		}
		ps.next = next
		if err := ps.checkBounds(); err != nil {
			s.node.AddPeerScore(ps.p, tagTooLongSync, scoreTooLongSync)
			ps.log.WithError(err).Warn("ordersync: provider cut off")
			return pages, false, false, err
		}
		if earlyErr != nil {
			if ctx.Err() == nil {
				s.node.AddPeerScore(ps.p, tagUnexpectedDisconnect, scoreUnexpectedDisconnect)
			}
			return pages, false, true, earlyErr
		}
		pipelined = early != nil
	}
}

// recordPage counts a page that the subprotocol took in.
func (ps *peerSync) recordPage(sub Subprotocol, roundTrip time.Duration, orders, valid int) {
	ps.pages++
	ps.orders += orders
	ps.valid += valid
	if valid > 0 && !ps.scoredOrders {
		ps.scoredOrders = true
		ps.s.node.SetPeerScore(ps.p, tagReceivedOrders, scoreReceivedOrders)
		ps.s.node.UnsetPeerScore(ps.p, tagUnexpectedDisconnect)
	}
	ps.s.tracer.PageReceived(ps.p, sub.Name(), roundTrip, orders, valid)
	ps.log.WithFields(logrus.Fields{"subprotocol": sub.Name(), "orders": orders, "validOrders": valid}).Trace("ordersync: page received")
}

// checkBounds cuts off a provider that has sent more than a sync takes.
func (ps *peerSync) checkBounds() error {
	cfg := &ps.s.cfg
	if ps.pages >= cfg.maxPagesPerSync {
		return fmt.Errorf("%w: %d pages from %s without a complete response", ErrTooManyPages, ps.pages, ps.p)
	}
	if ps.orders >= cfg.maxOrdersPerSync {
		return fmt.Errorf("%w: %d orders from %s without a complete response", ErrTooManyOrders, ps.orders, ps.p)
	}
	return nil
}

// writeRequest writes the sync's next request: the first request of a sync
// offers every subprotocol; later ones, and the first one on a stream that
// resumes a sync, name only the chosen subprotocol.
func (ps *peerSync) writeRequest(stream network.Stream, w *framing.Writer) error {
	req, err := ps.nextRawRequest()
	if err != nil {
		return err
	}
	return ps.writeRaw(stream, w, req)
}

// writeRaw writes req within the message timeout.
func (ps *peerSync) writeRaw(stream network.Stream, w *framing.Writer, req *rawRequest) error {
	if err := stream.SetWriteDeadline(time.Now().Add(ps.s.cfg.messageTimeout)); err != nil {
		return err
	}
	if err := w.WriteValue(req); err != nil {
		return fmt.Errorf("ordersync: writing a request to %s: %w", ps.p, err)
	}
	return nil
}

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

// readResponse reads the next response within the message timeout.
func (ps *peerSync) readResponse(stream network.Stream, r *framing.Reader) ([]byte, error) {
	s := ps.s
	if err := stream.SetReadDeadline(time.Now().Add(s.cfg.messageTimeout)); err != nil {
		return nil, err
	}
	msg, err := r.ReadMessage()
	switch {
	case err == nil:
		return msg, nil
	case err == io.EOF:
		return nil, errProviderClosed
	case errors.Is(err, framing.ErrTooLarge):
		s.node.AddPeerScore(ps.p, tagInvalidMessage, scoreInvalidMessage)
		ps.log.WithField("limit", s.cfg.maxResponseSize).Warn("ordersync: response too large")
		return nil, fmt.Errorf("%w: from %s: %w", ErrMessageTooLarge, ps.p, err)
	case errors.Is(err, framing.ErrNotObject), errors.Is(err, framing.ErrMalformed), errors.Is(err, framing.ErrTooDeep):
		s.node.AddPeerScore(ps.p, tagInvalidMessage, scoreInvalidMessage)
		ps.log.WithError(err).Warn("ordersync: invalid response")
		return nil, fmt.Errorf("%w: from %s: %w", ErrInvalidMessage, ps.p, err)
	default:
		if isTimeout(err) {
			s.node.AddPeerScore(ps.p, tagMessageTimeout, scoreMessageTimeout)
		}
		return nil, fmt.Errorf("ordersync: reading a response from %s: %w", ps.p, err)
	}
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
