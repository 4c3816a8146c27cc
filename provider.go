package ordersync

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/wire/framing"
)

// HandleStream serves one inbound ordersync stream as a provider: it answers
// requests until the requester has no more, the exchange goes wrong, the
// stream has reached WithMaxRequestsPerStream pages, or the Service's context
// ends. New registers it with the node; it is exported for nodes that route
// streams themselves. It returns when it is done with the stream, leaving
// nothing running.
func (s *Service) HandleStream(stream network.Stream) {
	remote := stream.Conn().RemotePeer()
	log := s.log.WithField("requester", remote)
	defer s.recoverServing(stream, log)

	if !s.life.enter() {
		s.reject(stream, log, StreamStopped) // closed
		return
	}
	defer s.life.leave()
	if s.life.ctx.Err() != nil {
		s.reject(stream, log, StreamStopped)
		return
	}
	// Turn the stream away at once when the provider is busy: queueing it
	// would hold its memory and let a burst pile up.
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		s.reject(stream, log, StreamMaxStreams)
		return
	}
	if !s.peerStreams.acquire(remote) {
		s.reject(stream, log, StreamMaxStreamsPerPeer)
		return
	}
	defer s.peerStreams.release(remote)
	if !s.peerLimiter.get(remote).Allow() {
		s.reject(stream, log, StreamPeerRateLimit)
		return
	}
	firstPaid, ok := s.limiter.admit(remote)
	if !ok {
		s.reject(stream, log, StreamRateLimit)
		return
	}

	if err := stream.Scope().SetService(ServiceName); err != nil {
		log.WithError(err).Debug("ordersync: resource manager refused the stream")
		s.reject(stream, log, StreamResourceLimit)
		return
	}
	s.tracer.StreamOpened(RoleProvider)
	defer s.tracer.StreamClosed(RoleProvider)
	mem := &reservation{scope: stream.Scope()}
	defer mem.release()

	ctx, cancel := context.WithCancel(s.life.ctx)
	defer cancel()
	// The reset wakes a read or write blocked on the stream when the
	// Service stops.
	stopReset := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stopReset()

	p := &providerStream{s: s, stream: stream, log: log, ctx: ctx, firstPaid: firstPaid}
	err := p.serve(mem)
	if err != nil {
		_ = stream.Reset()
		return
	}
	_ = stream.Close()
}

// reject resets a stream the provider will not serve.
func (s *Service) reject(stream network.Stream, log logrus.FieldLogger, why StreamRejectReason) {
	s.tracer.StreamRejected(stream.Conn().RemotePeer(), why)
	log.WithField("reason", why).Debug("ordersync: stream rejected")
	_ = stream.Reset()
}

// errDeclined means the subprotocol did not answer a request.
var errDeclined = errors.New("ordersync: subprotocol declined the request")

// errPageCap means a stream reached its page cap before a response that
// does not complete the sync.
var errPageCap = errors.New("ordersync: stream page limit reached")

// providerStream is the state of one stream served by HandleStream.
type providerStream struct {
	s      *Service
	stream network.Stream
	log    logrus.FieldLogger
	ctx    context.Context
	reader *framing.Reader
	writer *framing.Writer
	// firstPaid is true when the shared limiter's token for the first
	// request was taken as the stream opened.
	firstPaid bool
	// read and written feed the Service's Stats.
	read, written meter
}

// serve runs the request/response loop. A nil error means the stream
// should be closed; an error, that it should be reset.
func (p *providerStream) serve(mem *reservation) error {
	s := p.s
	remote := p.stream.Conn().RemotePeer()
	var err error
	p.reader, err = framing.NewReader(p.stream, s.cfg.maxRequestSize, mem.reserve)
	if err != nil {
		p.log.WithError(err).Debug("ordersync: no memory for the stream")
		s.tracer.StreamRejected(remote, StreamResourceLimit)
		return err
	}
	// A response's buffer counts against the host's resource manager while
	// it is being written: a requester that does not read holds it until
	// the write deadline.
	p.writer = framing.NewWriter(p.stream).WithMemory(mem.reserve, mem.give)

	var chosen Subprotocol
	for served := 0; ; served++ {
		timeout := s.cfg.messageTimeout
		if served == 0 {
			timeout = min(timeout, s.cfg.firstRequestTimeout)
		}
		msg, err := p.readRequest(timeout)
		if err == io.EOF {
			return nil // the requester is done
		}
		if err != nil {
			return err
		}
		// The stream's first request was paid for when it opened, if the
		// shared limiter had a token then.
		if served > 0 || !p.firstPaid {
			if err := p.waitForTokens(); err != nil {
				p.log.WithError(err).Debug("ordersync: rate limit wait failed")
				if p.ctx.Err() == nil {
					s.tracer.StreamRejected(remote, StreamTimeout)
				}
				return err
			}
		}
		sub, req, err := s.parseRequest(msg, chosen, remote)
		if err != nil {
			var noMatch NoMatchingSubprotocolsError
			if errors.As(err, &noMatch) {
				s.score.negotiationFailed(remote)
				p.log.WithError(err).Debug("ordersync: subprotocol negotiation failed")
				return nil // close without writing, as the protocol says
			}
			s.score.invalidMessage(remote)
			s.tracer.StreamRejected(remote, StreamInvalidRequest)
			p.log.WithError(err).Warn("ordersync: invalid request")
			return err
		}
		s.score.validMessage(remote)
		chosen = sub
		// Past the page cap, the stream ends: the requester resumes on a
		// new one from the request left unanswered. The answer that
		// completes the sync is still sent, so that the last stream of a
		// sync never carries only the empty complete page: an original
		// requester takes that as "no orders from the peer" and starts
		// over, to meet the cap at the same place again.
		capped := served == s.cfg.maxRequestsPerStream
		if err := p.answer(sub, req, capped); err == errDeclined || err == errPageCap {
			return nil // close without writing, as the protocol says
		} else if err != nil {
			return err
		}
		if capped {
			p.log.WithField("pages", served+1).Debug("ordersync: stream page limit reached")
			return nil
		}
	}
}

// waitForTokens waits, within one message timeout, for the per-peer
// limiter and then for the peer's turn at the shared one.
func (p *providerStream) waitForTokens() error {
	ctx, cancel := context.WithTimeout(p.ctx, p.s.cfg.messageTimeout)
	defer cancel()
	remote := p.stream.Conn().RemotePeer()
	if err := p.s.peerLimiter.get(remote).Wait(ctx); err != nil {
		return err
	}
	return p.s.limiter.wait(ctx, remote)
}

// readRequest reads the next request within the message timeout.
func (p *providerStream) readRequest(timeout time.Duration) ([]byte, error) {
	s := p.s
	remote := p.stream.Conn().RemotePeer()
	if err := p.stream.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	msg, err := p.reader.ReadMessage()
	s.tracer.BytesRead(RoleProvider, remote, int(p.read.since(p.reader.BytesRead())))
	if err == nil || err == io.EOF {
		return msg, err
	}
	fault := classifyRead(err)
	s.score.badRead(remote, fault)
	switch fault {
	case readTooLarge:
		s.tracer.StreamRejected(remote, StreamRequestTooLarge)
		p.log.WithField("limit", s.cfg.maxRequestSize).Warn("ordersync: request too large")
		return nil, errors.Join(ErrMessageTooLarge, err)
	case readInvalid:
		s.tracer.StreamRejected(remote, StreamInvalidRequest)
		p.log.WithError(err).Warn("ordersync: invalid request")
		return nil, errors.Join(ErrInvalidMessage, err)
	case readTimeout:
		s.tracer.StreamRejected(remote, StreamTimeout)
	}
	p.log.WithError(err).Debug("ordersync: reading request failed")
	return nil, err
}

// answer has the subprotocol answer req and writes its response; with
// onlyComplete, only a complete response, else it returns errPageCap.
func (p *providerStream) answer(sub Subprotocol, req *Request, onlyComplete bool) error {
	s := p.s
	log := p.log.WithField("subprotocol", sub.Name())
	start := time.Now()
	ctx, cancel := context.WithTimeout(p.ctx, s.cfg.messageTimeout)
	resp, err := sub.HandleOrderSyncRequest(ctx, req)
	cancel()
	if err != nil || resp == nil {
		log.WithError(err).Debug("ordersync: subprotocol did not answer")
		return errDeclined
	}
	if onlyComplete && !resp.Complete {
		log.WithField("pages", s.cfg.maxRequestsPerStream).Debug("ordersync: stream page limit reached")
		return errPageCap
	}
	if err := p.stream.SetWriteDeadline(time.Now().Add(s.cfg.messageTimeout)); err != nil {
		return err
	}
	err = p.writer.WriteMessageInPieces(func(buf []byte, flush func([]byte) ([]byte, error)) ([]byte, error) {
		return s.responses.Encode(buf, flush, sub.Name(), resp.Orders, resp.Complete, resp.Metadata)
	})
	remote := p.stream.Conn().RemotePeer()
	s.tracer.BytesWritten(RoleProvider, remote, int(p.written.since(p.writer.BytesWritten())))
	if err != nil {
		log.WithError(err).Debug("ordersync: writing response failed")
		return err
	}
	s.tracer.RequestServed(remote, sub.Name(), time.Since(start), len(resp.Orders))
	log.WithFields(logrus.Fields{"orders": len(resp.Orders), "complete": resp.Complete}).Trace("ordersync: response sent")
	return nil
}
