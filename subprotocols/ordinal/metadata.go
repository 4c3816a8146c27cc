package ordinal

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
	// Page counts the requests of a sync from 0. Providers echo it; the
	// cursor is SnapshotID.
	Page int `json:"page"`
	// SnapshotID is the hex hash of the order to continue after, "" to
	// start from the beginning.
	SnapshotID string `json:"snapshotID"`
}

// ResponseMetadata is the metadata of a response.
type ResponseMetadata struct {
	// Page is the request's page.
	Page int `json:"page"`
	// SnapshotID is the hex hash of the last order the provider scanned
	// for this response; the zero hash in a complete response.
	SnapshotID string `json:"snapshotID"`
}

// after returns the cursor that a SnapshotID names.
func after(snapshotID string) (common.Hash, error) {
	if snapshotID == "" {
		return common.Hash{}, nil
	}
	return meta.ParseHash("snapshotID", snapshotID)
}

// snapshotID is the inverse of after.
func snapshotID(h common.Hash) string {
	if h == (common.Hash{}) {
		return ""
	}
	return h.Hex()
}

// ParseRequest decodes request metadata. Absent or null metadata or fields
// mean "no filter", page 0 and "from the beginning".
func (codec) ParseRequest(raw json.RawMessage) (*RequestMetadata, error) {
	md := &RequestMetadata{}
	if meta.IsNull(raw) {
		return md, nil
	}
	var w struct {
		OrderFilter json.RawMessage `json:"orderfilter"`
		Page        *int            `json:"page"`
		SnapshotID  *string         `json:"snapshotID"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("ordinal: request metadata: %w", err)
	}
	filter, err := meta.ParseFilter(w.OrderFilter)
	if err != nil {
		return nil, fmt.Errorf("ordinal: request metadata: field \"orderfilter\": %w", err)
	}
	md.OrderFilter = filter
	if w.Page != nil {
		if *w.Page < 0 {
			return nil, fmt.Errorf("ordinal: request metadata: field \"page\": %d is negative", *w.Page)
		}
		md.Page = *w.Page
	}
	if w.SnapshotID != nil {
		if _, err := after(*w.SnapshotID); err != nil {
			return nil, fmt.Errorf("ordinal: request metadata: field %w", err)
		}
		md.SnapshotID = *w.SnapshotID
	}
	return md, nil
}

// ParseResponse decodes response metadata. Absent or null metadata or
// fields mean page 0 and a provider that did not say how far it scanned.
func (codec) ParseResponse(raw json.RawMessage) (*ResponseMetadata, error) {
	md := &ResponseMetadata{}
	if meta.IsNull(raw) {
		return md, nil
	}
	var w struct {
		Page       *int    `json:"page"`
		SnapshotID *string `json:"snapshotID"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("ordinal: response metadata: %w", err)
	}
	if w.Page != nil {
		if *w.Page < 0 {
			return nil, fmt.Errorf("ordinal: response metadata: field \"page\": %d is negative", *w.Page)
		}
		md.Page = *w.Page
	}
	if w.SnapshotID != nil {
		if _, err := after(*w.SnapshotID); err != nil {
			return nil, fmt.Errorf("ordinal: response metadata: field %w", err)
		}
		md.SnapshotID = *w.SnapshotID
	}
	return md, nil
}
