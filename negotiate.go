package ordersync

import (
	"encoding/json"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/internal/wire"
)

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
