package ordersync

import (
	"encoding/json"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/internal/wire"
)

// This file is the Service's side of every message's envelope, the glue
// between the subprotocols and internal/wire's codec, in the order of a
// stream: the first request of a sync, which offers every subprotocol;
// the later requests, which name the chosen one; the provider's
// negotiation and parsing of a request; and the requester's parsing of a
// response. The provider's response goes out through wire's
// ResponseEncoder (see providerStream.answer).

// rawRequest and rawResponse are the messages as they travel on the wire;
// internal/wire encodes and decodes them.
type (
	rawRequest  = wire.Request
	rawResponse = wire.Response
)

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

// rawRequest is req on the wire: the first request of a sync offers every
// subprotocol; later ones, and the first one on a stream that resumes a
// sync, name only the chosen subprotocol.
func (ps *peerSync) rawRequest(req *Request) (*rawRequest, error) {
	if ps.sub == nil {
		ps.s.resetSyncState(ps.p)
		return ps.s.firstRequest()
	}
	return ps.laterRawRequest(req)
}

// laterRawRequest is next as a request of the chosen subprotocol.
func (ps *peerSync) laterRawRequest(next *Request) (*rawRequest, error) {
	var metadata any
	if next != nil {
		metadata = next.Metadata
	}
	return wire.LaterRequest(ps.sub.Name(), metadata)
}

// GetMatchingSubprotocol negotiates the subprotocol of a first request: it
// walks the requester's list in order and returns the first subprotocol the
// Service supports, with its index in that list, so that the requester's
// preference wins. If there is none, the error is a
// NoMatchingSubprotocolsError.
//
// The name, the unexported parameter type and the index result are those
// of the original 0x Mesh Service, which nodes were written against, and
// are kept as they were: since rawRequest (the wire envelope) is
// unexported, code outside this package cannot build one to call it with;
// the Service calls it on every stream's first request.
func (s *Service) GetMatchingSubprotocol(rawReq *rawRequest) (Subprotocol, int, error) {
	for i, name := range rawReq.Subprotocols {
		if sub, ok := s.byName[name]; ok {
			return sub, i, nil
		}
	}
	return nil, 0, NoMatchingSubprotocolsError{
		Requested: append([]string(nil), rawReq.Subprotocols...),
		Supported: append([]string(nil), s.names...),
	}
}

// parseRequest turns a request's bytes into the Request for a subprotocol.
// chosen is the subprotocol of the stream, nil on its first request. The
// error wraps ErrInvalidMessage or is a NoMatchingSubprotocolsError.
func (s *Service) parseRequest(msg []byte, chosen Subprotocol, from peer.ID) (Subprotocol, *Request, error) {
	raw, err := wire.DecodeRequest(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	sub := chosen
	var metadata json.RawMessage
	if sub == nil {
		var i int
		sub, i, err = s.GetMatchingSubprotocol(raw)
		if err != nil {
			return nil, nil, err
		}
		metadata = raw.FirstMetadata(i)
	} else if metadata, err = raw.LaterMetadata(sub.Name()); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	parsed, err := sub.ParseRequestMetadata(metadata)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s request metadata: %v", ErrInvalidMessage, sub.Name(), err)
	}
	return sub, &Request{RequesterID: from, Metadata: parsed}, nil
}

// parseResponse checks a whole response message and turns it into the
// Response for its subprotocol. The error wraps ErrInvalidMessage. A
// stream's responses are decoded as they arrive instead (readResponse);
// both end in checkResponse.
func (ps *peerSync) parseResponse(msg []byte) (Subprotocol, *Response, error) {
	var raw rawResponse
	if err := wire.DecodeResponse(msg, &raw, ps.s.cfg.maxOrdersPerResponse); err != nil {
		return nil, nil, ps.undecodable(err)
	}
	return ps.checkResponse(&raw)
}

// undecodable is the error for a response that did not decode (err).
func (ps *peerSync) undecodable(err error) error {
	return fmt.Errorf("%w: response from %s: %v", ErrInvalidMessage, ps.p, err)
}

// checkResponse checks a decoded response and turns it into the Response
// for its subprotocol. The error wraps ErrInvalidMessage.
func (ps *peerSync) checkResponse(raw *rawResponse) (Subprotocol, *Response, error) {
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
