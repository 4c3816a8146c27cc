package filteredpagination

import (
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
)

// RequestMetadata is the metadata of a request. Its JSON is the one existing
// nodes exchange, fields in this order.
type RequestMetadata struct {
	// OrderFilter is the requester's filter; nil (JSON null) asks for every
	// order.
	OrderFilter *orderfilter.Filter `json:"orderfilter"`
	// MinOrderHash is the cursor: the provider returns orders whose hash is
	// strictly greater. The zero hash starts from the beginning.
	MinOrderHash common.Hash `json:"minOrderHash"`
}

// ResponseMetadata is the metadata of a response.
type ResponseMetadata struct {
	// NextMinOrderHash is the hash of the last order the provider scanned
	// for this response; the zero hash in a complete response.
	NextMinOrderHash common.Hash `json:"nextMinOrderHash"`
}

// wireRequestMetadata is RequestMetadata before its fields are checked.
type wireRequestMetadata struct {
	OrderFilter  json.RawMessage `json:"orderfilter"`
	MinOrderHash *string         `json:"minOrderHash"`
}

// ParseRequest decodes request metadata. Absent or null metadata, filter or
// cursor mean "no filter" and "from the beginning".
func (codec) ParseRequest(raw json.RawMessage) (*RequestMetadata, error) {
	md := &RequestMetadata{}
	if meta.IsNull(raw) {
		return md, nil
	}
	var w wireRequestMetadata
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("filteredpagination: request metadata: %w", err)
	}
	filter, err := meta.ParseFilter(w.OrderFilter)
	if err != nil {
		return nil, fmt.Errorf("filteredpagination: request metadata: field \"orderfilter\": %w", err)
	}
	md.OrderFilter = filter
	if w.MinOrderHash != nil {
		md.MinOrderHash, err = meta.ParseHash("minOrderHash", *w.MinOrderHash)
		if err != nil {
			return nil, fmt.Errorf("filteredpagination: request metadata: field %w", err)
		}
	}
	return md, nil
}

// ParseResponse decodes response metadata. Absent or null metadata, or an
// absent nextMinOrderHash, mean the provider did not say how far it
// scanned.
func (codec) ParseResponse(raw json.RawMessage) (*ResponseMetadata, error) {
	md := &ResponseMetadata{}
	if meta.IsNull(raw) {
		return md, nil
	}
	var w struct {
		NextMinOrderHash *string `json:"nextMinOrderHash"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("filteredpagination: response metadata: %w", err)
	}
	if w.NextMinOrderHash != nil {
		h, err := meta.ParseHash("nextMinOrderHash", *w.NextMinOrderHash)
		if err != nil {
			return nil, fmt.Errorf("filteredpagination: response metadata: field %w", err)
		}
		md.NextMinOrderHash = h
	}
	return md, nil
}
