package ordinal

import (
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
)

// codec is this subprotocol's pagination.Codec. The cursor is snapshotID,
// the hex hash of the order to continue after ("" for the start); page
// only counts a sync's requests. A response's snapshotID is where the
// provider's scan stopped, and the next request, page+1, continues from
// there.
//
// Its parsers, ParseRequest and ParseResponse, are in metadata.go.
type codec struct{}

func (codec) Name() string { return Name }

// Request asks for page 0 first, then for the page after prev's. When the
// cursor is the hash prev's snapshotID names, it is written as the
// provider wrote it.
func (codec) Request(filter *orderfilter.Filter, cursor common.Hash, prev *ResponseMetadata) (*RequestMetadata, error) {
	md := &RequestMetadata{OrderFilter: filter, SnapshotID: snapshotID(cursor)}
	if prev == nil {
		return md, nil
	}
	if prev.Page == math.MaxInt {
		return nil, fmt.Errorf("ordinal: response metadata: field \"page\": %d has no next page", prev.Page)
	}
	md.Page = prev.Page + 1
	if through, err := after(prev.SnapshotID); err == nil && through == cursor {
		md.SnapshotID = prev.SnapshotID
	}
	return md, nil
}

func (codec) RequestCursor(md *RequestMetadata) (*orderfilter.Filter, common.Hash, error) {
	from, err := after(md.SnapshotID)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("ordinal: request metadata: field %w", err)
	}
	return md.OrderFilter, from, nil
}

// Response echoes the request's page. Its snapshotID is always a hash:
// the zero hash (0x and 64 zeros) in the complete response, as existing
// providers write it, not "".
func (codec) Response(req *RequestMetadata, through common.Hash) *ResponseMetadata {
	return &ResponseMetadata{Page: req.Page, SnapshotID: through.Hex()}
}

func (codec) ResponseCursor(md *ResponseMetadata) (common.Hash, bool, error) {
	through, err := after(md.SnapshotID)
	if err != nil {
		return common.Hash{}, false, fmt.Errorf("ordinal: response metadata: field %w", err)
	}
	return through, true, nil
}
