package ordersync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ordersync/ordersync/internal/wire/framing"
)

// ErrPipelineMismatch means that the request a Pipeliner subprotocol asked
// for early, before validating a response, differs from the one its
// HandleOrderSyncResponse returned for that response: a subprotocol bug, or
// a page that the subprotocol judges differently the second time. The sync
// ends and is not resumed.
var ErrPipelineMismatch = errors.New("ordersync: request sent before validation differs from the subprotocol's next request")

// earlyRequest is a request written before its response was validated.
type earlyRequest struct {
	metadata []byte // as written
}

// writeEarlyRequest writes the request that follows resp before resp is
// validated, when the subprotocol is a Pipeliner that can tell it, resp is
// not complete, and the per-sync bounds will let the sync go on after resp.
// It returns the request written, or nil when none was. A failed write is
// returned for the caller to report once resp is handled: the page in hand
// is still good, but the stream is not.
func (ps *peerSync) writeEarlyRequest(ctx context.Context, stream network.Stream, w *framing.Writer, resp *Response) (*earlyRequest, error) {
	pl, ok := ps.sub.(Pipeliner)
	if !ok || resp.Complete || !ps.goesOnAfter(len(resp.Orders)) {
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
	return &earlyRequest{metadata: raw.Metadata}, ps.writeRaw(stream, w, raw)
}

// goesOnAfter reports whether checkBounds will let the sync go on after a
// page of orders orders: only then is a request sent ahead of validation.
func (ps *peerSync) goesOnAfter(orders int) bool {
	cfg := &ps.s.cfg
	return ps.pages+1 < cfg.maxPagesPerSync && ps.orders+orders < cfg.maxOrdersPerSync
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

// fetch reads and parses the next response, scoring the provider for a bad
// one. It only reads ps.sub of the sync's state, so it may run while the
// previous page is being validated (see fetchAhead).
func (ps *peerSync) fetch(stream network.Stream, reader *framing.Reader, read *meter) fetched {
	s := ps.s
	msg, err := ps.readResponse(stream, reader)
	at := time.Now()
	s.tracer.BytesRead(RoleRequester, ps.p, int(read.since(reader.BytesRead())))
	if err != nil {
		return fetched{err: err, resumable: !errors.Is(err, ErrInvalidMessage) && !errors.Is(err, ErrMessageTooLarge)}
	}
	sub, resp, err := ps.parseResponse(msg)
	if err != nil {
		s.node.AddPeerScore(ps.p, tagInvalidMessage, scoreInvalidMessage)
		ps.log.WithError(err).Warn("ordersync: invalid response")
		return fetched{err: err}
	}
	return fetched{sub: sub, resp: resp, at: at}
}

// fetchAhead fetches the next response on a goroutine of its own; the
// channel yields it. The caller must receive from the channel before it
// reads from reader again or releases the stream's memory.
func (ps *peerSync) fetchAhead(stream network.Stream, reader *framing.Reader, read *meter) <-chan fetched {
	ch := make(chan fetched, 1)
	go func() { ch <- ps.fetch(stream, reader, read) }()
	return ch
}
