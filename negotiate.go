package ordersync

import (
	"encoding/json"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// GetMatchingSubprotocol negotiates the subprotocol of a first request: it
// walks the requester's list in order and returns the first subprotocol the
// Service supports, with its index in that list, so that the requester's
// preference wins. If there is none, the error is a
// NoMatchingSubprotocolsError.
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
	var raw rawRequest
	if err := json.Unmarshal(msg, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: request: %v", ErrInvalidMessage, err)
	}
	if raw.Type != TypeRequest {
		return nil, nil, fmt.Errorf("%w: request type %.64q, want %q", ErrInvalidMessage, raw.Type, TypeRequest)
	}
	if err := checkOffered(raw.Subprotocols); err != nil {
		return nil, nil, err
	}
	metadata := raw.Metadata
	sub := chosen
	if sub == nil {
		var i int
		var err error
		sub, i, err = s.GetMatchingSubprotocol(&raw)
		if err != nil {
			return nil, nil, err
		}
		metadata = pickFirstMetadata(raw.Metadata, i)
	} else if len(raw.Subprotocols) != 1 || raw.Subprotocols[0] != sub.Name() {
		return nil, nil, fmt.Errorf("%w: later request names subprotocols %q, want only %q",
			ErrInvalidMessage, raw.Subprotocols, sub.Name())
	}
	if len(metadata) == 0 {
		metadata = jsonNull // absent: older requesters
	}
	parsed, err := sub.ParseRequestMetadata(metadata)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s request metadata: %v", ErrInvalidMessage, sub.Name(), err)
	}
	return sub, &Request{RequesterID: from, Metadata: parsed}, nil
}

var jsonNull = json.RawMessage("null")

// Bounds on a request's list of subprotocols. Names and lists end up in
// errors and logs; real requesters offer two short names.
const (
	maxOfferedSubprotocols  = 32
	maxSubprotocolNameBytes = 256
)

// checkOffered bounds a requester's list of subprotocols.
func checkOffered(names []string) error {
	if len(names) > maxOfferedSubprotocols {
		return fmt.Errorf("%w: request offers %d subprotocols, at most %d are taken", ErrInvalidMessage, len(names), maxOfferedSubprotocols)
	}
	for i, name := range names {
		if len(name) > maxSubprotocolNameBytes {
			return fmt.Errorf("%w: request's subprotocol %d is %d bytes long, at most %d are taken", ErrInvalidMessage, i, len(name), maxSubprotocolNameBytes)
		}
	}
	return nil
}

// pickFirstMetadata picks the chosen subprotocol's part of a first request's
// metadata: entry i of {"metadata":[...]} when there is one, else the
// metadata as it came (older requesters send null or nothing, and a
// requester resuming a sync sends the subprotocol's metadata unwrapped).
//
// The entries go into a fixed array as long as the longest list of
// subprotocols taken (checkOffered), so that a request of a million tiny
// entries makes no more than that: json.Unmarshal drops the rest.
func pickFirstMetadata(metadata json.RawMessage, i int) json.RawMessage {
	var first struct {
		Metadata [maxOfferedSubprotocols]json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(metadata, &first); err == nil && first.Metadata[i] != nil {
		return first.Metadata[i]
	}
	return metadata
}
