package filteredpagination

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
)

// codec is this subprotocol's pagination.Codec. The cursor is a request's
// minOrderHash. A response's nextMinOrderHash bounds its orders, but the
// next request asks from the hash of the last order received, as existing
// requesters do.
//
// Its parsers, ParseRequest and ParseResponse, are in metadata.go.
type codec struct{}

func (codec) Name() string { return Name }

func (codec) Request(filter *orderfilter.Filter, cursor common.Hash, _ *ResponseMetadata) (*RequestMetadata, error) {
	return &RequestMetadata{OrderFilter: filter, MinOrderHash: cursor}, nil
}

func (codec) RequestCursor(md *RequestMetadata) (*orderfilter.Filter, common.Hash, error) {
	return md.OrderFilter, md.MinOrderHash, nil
}

// Response writes the zero hash in the complete response, as existing
// providers do.
func (codec) Response(_ *RequestMetadata, through common.Hash) *ResponseMetadata {
	return &ResponseMetadata{NextMinOrderHash: through}
}

func (codec) ResponseCursor(md *ResponseMetadata) (common.Hash, bool, error) {
	return md.NextMinOrderHash, false, nil
}
