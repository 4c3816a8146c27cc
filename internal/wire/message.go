package wire

import (
	"encoding/json"

	"github.com/ordersync/ordersync/zeroex"
)

// The values of a message's "type" field (ordersync.TypeRequest and
// ordersync.TypeResponse).
const (
	TypeRequest  = "Request"
	TypeResponse = "Response"
)

// Request is a request as it travels on the wire.
type Request struct {
	Type         string          `json:"type"`
	Subprotocols []string        `json:"subprotocols"`
	Metadata     json.RawMessage `json:"metadata"`
}

// Response is a response as it travels on the wire.
type Response struct {
	Type        string                `json:"type"`
	Subprotocol string                `json:"subprotocol"`
	Orders      []*zeroex.SignedOrder `json:"orders"`
	Complete    bool                  `json:"complete"`
	Metadata    json.RawMessage       `json:"metadata"`
}

// firstRequestMetadata is the metadata of a first request: one entry per
// subprotocol the request lists, in the same order. It is the shape of
// ordersync.FirstRequestsForSubprotocols.
type firstRequestMetadata struct {
	MetadataForSubprotocol []json.RawMessage `json:"metadata"`
}

// Null is the metadata of a message that has none: older peers leave the
// field out or send null.
var Null = json.RawMessage("null")

// OrNull is metadata, or Null when it is absent.
func OrNull(metadata json.RawMessage) json.RawMessage {
	if len(metadata) == 0 {
		return Null
	}
	return metadata
}
