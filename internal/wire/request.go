package wire

import (
	"encoding/json"
	"fmt"
)

// FirstRequest is the request that starts a sync from the beginning: it
// offers every subprotocol in names, most preferred first, with
// metadata[i] (null when empty) as the first-request metadata of names[i].
func FirstRequest(names []string, metadata []json.RawMessage) (*Request, error) {
	first := firstRequestMetadata{MetadataForSubprotocol: make([]json.RawMessage, len(metadata))}
	for i, m := range metadata {
		first.MetadataForSubprotocol[i] = OrNull(m)
	}
	encoded, err := json.Marshal(first)
	if err != nil {
		return nil, fmt.Errorf("ordersync: first request metadata: %w", err)
	}
	return &Request{Type: TypeRequest, Subprotocols: names, Metadata: encoded}, nil
}

// LaterRequest is a request that names only the chosen subprotocol sub and
// carries its own metadata, unwrapped: every request after a stream's
// first, and the first one of a stream that resumes a sync.
func LaterRequest(sub string, metadata any) (*Request, error) {
	encoded, err := json.Marshal(metadata)
	if err != nil {
		return nil, fmt.Errorf("ordersync: %s request metadata: %w", sub, err)
	}
	return &Request{Type: TypeRequest, Subprotocols: []string{sub}, Metadata: encoded}, nil
}

// Bounds on a request's list of subprotocols. Names and lists end up in
// errors and logs; real requesters offer two short names.
const (
	MaxOfferedSubprotocols  = 32
	MaxSubprotocolNameBytes = 256
)

// DecodeRequest decodes a request's envelope and checks its type and its
// list of subprotocols. Its errors say what is wrong without saying that
// the message is invalid: the caller wraps them in
// ordersync.ErrInvalidMessage.
func DecodeRequest(msg []byte) (*Request, error) {
	var req Request
	if err := json.Unmarshal(msg, &req); err != nil {
		return nil, fmt.Errorf("request: %v", err)
	}
	if req.Type != TypeRequest {
		return nil, fmt.Errorf("request type %.64q, want %q", req.Type, TypeRequest)
	}
	if err := checkOffered(req.Subprotocols); err != nil {
		return nil, err
	}
	return &req, nil
}

// checkOffered bounds a requester's list of subprotocols.
func checkOffered(names []string) error {
	if len(names) > MaxOfferedSubprotocols {
		return fmt.Errorf("request offers %d subprotocols, at most %d are taken", len(names), MaxOfferedSubprotocols)
	}
	for i, name := range names {
		if len(name) > MaxSubprotocolNameBytes {
			return fmt.Errorf("request's subprotocol %d is %d bytes long, at most %d are taken", i, len(name), MaxSubprotocolNameBytes)
		}
	}
	return nil
}

// FirstMetadata is the metadata, for the subprotocol at index i of its
// list, of a stream's first request: entry i of {"metadata":[...]} when
// there is one, else the metadata as it came (older requesters send null
// or nothing, and a requester resuming a sync sends the subprotocol's
// metadata unwrapped); null when absent.
//
// The entries go into a fixed array as long as the longest list of
// subprotocols taken, so that a request of a million tiny entries makes no
// more than that: json.Unmarshal drops the rest.
func (r *Request) FirstMetadata(i int) json.RawMessage {
	var first struct {
		Metadata [MaxOfferedSubprotocols]json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(r.Metadata, &first); err == nil && first.Metadata[i] != nil {
		return first.Metadata[i]
	}
	return OrNull(r.Metadata)
}

// LaterMetadata is the metadata of a later request on a stream whose
// subprotocol is sub, null when absent. A later request must name sub and
// nothing else.
func (r *Request) LaterMetadata(sub string) (json.RawMessage, error) {
	if len(r.Subprotocols) != 1 || r.Subprotocols[0] != sub {
		return nil, fmt.Errorf("later request names subprotocols %q, want only %q", r.Subprotocols, sub)
	}
	return OrNull(r.Metadata), nil
}
