package pagination

import (
	"encoding/json"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
)

// A Codec is what one pagination subprotocol has of its own: its name, its
// request and response metadata (the types Req and Res, and their
// parsers), and how the cursor is written in them. Everything else,
// serving pages, checking and storing orders, pipelining, is Subprotocol's
// and the same for every Codec. Package filteredpagination's codec writes
// the cursor as an order hash, package ordinal's as a page number and a
// "snapshotID".
//
// A cursor is an order hash: a request asks for the orders after it, the
// zero hash for the first request. A Codec's methods are called on the
// metadata its own parsers made, or that it made itself; they must be safe
// for concurrent use.
type Codec[Req, Res any] interface {
	// Name is the subprotocol's name on the wire.
	Name() string

	// ParseRequest decodes request metadata. Absent or null metadata is a
	// first request.
	ParseRequest(raw json.RawMessage) (*Req, error)
	// ParseResponse decodes response metadata.
	ParseResponse(raw json.RawMessage) (*Res, error)

	// Request is the metadata of a request, with the requester's filter
	// (nil: none), for the orders after cursor: the first request when
	// prev is nil (cursor is then the zero hash), else the request that
	// follows the response whose metadata is prev.
	Request(filter *orderfilter.Filter, cursor common.Hash, prev *Res) (*Req, error)
	// RequestCursor is what req asks a provider for: the orders after
	// cursor that match filter (nil: every order).
	RequestCursor(req *Req) (filter *orderfilter.Filter, cursor common.Hash, err error)
	// Response is the metadata of the response to req whose scan of the
	// store ended at through: the hash of the last order the provider
	// looked at, or the zero hash for the complete response.
	Response(req *Req, through common.Hash) *Res
	// ResponseCursor is what res says of the provider's scan: through, the
	// hash it scanned to (the zero hash when res does not say), and
	// fromThrough, whether the request that follows starts after through
	// (as page numbers do) rather than after the hash of res's last order
	// (as the order-hash cursor does). See Page's Through and
	// NextFromThrough.
	ResponseCursor(res *Res) (through common.Hash, fromThrough bool, err error)
}
