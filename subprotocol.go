package ordersync

import (
	"context"
	"encoding/json"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Subprotocol is one way of paging through a provider's orders. Requester
// and provider agree on one per stream; see the package documentation.
//
// A Subprotocol is shared by every stream of a Service, so its methods must
// be safe for concurrent use.
type Subprotocol interface {
	// Name is the subprotocol's name on the wire, for example
	// "/pagination-with-filter/version/1".
	Name() string
	// HandleOrderSyncRequest answers a request as a provider. It is called
	// with a context that ends when the stream's time is up.
	HandleOrderSyncRequest(context.Context, *Request) (*Response, error)
	// HandleOrderSyncResponse takes in a response as a requester: it
	// validates and stores the orders and returns how many were valid and
	// the next request, or nil when there is nothing more to ask.
	HandleOrderSyncResponse(context.Context, *Response) (nextRequest *Request, numValidOrders int, err error)
	// ParseRequestMetadata decodes the metadata of a request. It must
	// accept JSON null as "start from the beginning" (older requesters
	// send it in their first request).
	ParseRequestMetadata(metadata json.RawMessage) (interface{}, error)
	// ParseResponseMetadata decodes the metadata of a response.
	ParseResponseMetadata(metadata json.RawMessage) (interface{}, error)
	// GenerateFirstRequestMetadata returns the metadata of the first
	// request of a sync that starts from the beginning.
	GenerateFirstRequestMetadata() (json.RawMessage, error)
}

// SyncResetter is an optional interface of a Subprotocol that keeps, on the
// requester side, state per provider about the sync under way (a cursor that
// each response must move forward, say). Before a sync with a provider
// starts from the beginning, rather than resuming, the Service calls
// ResetSync for that provider on every subprotocol that has it, so that
// state left by a sync that broke off does not judge the new one.
type SyncResetter interface {
	ResetSync(provider peer.ID)
}

// Pipeliner is an optional interface of a Subprotocol whose next request
// follows from a response alone, before the response's orders are checked.
// For such a subprotocol the requester writes the next request first and
// validates the page while the provider builds the next one and the
// requester reads and decodes it, so that the two peers work at the same
// time rather than in turns. A sync still resumes from the last request
// whose page was validated, and sends nothing after a complete response.
//
// NextRequest must return exactly the request that HandleOrderSyncResponse
// will return for the same response (the requester ends the sync with
// ErrPipelineMismatch when they differ), or nil when it cannot tell; it
// must not change any state. It is only called for responses that are not
// complete, and always before HandleOrderSyncResponse for that response.
type Pipeliner interface {
	NextRequest(ctx context.Context, resp *Response) (*Request, error)
}

// Prechecker is an optional interface of a Pipeliner whose pages can be
// checked ahead of their turn. A pipelined requester reads the next
// response while it validates and stores the page in hand; it then calls
// PrecheckResponse on that response, on the goroutine that read it, so
// that the costly checks of the next page (its signatures) run while the
// page before it is stored, not after. A store's commit then costs the
// sync only what it takes beyond those checks.
//
// PrecheckResponse must not change the sync's state, store anything or
// judge the provider: HandleOrderSyncResponse (or HandleLaneResponse)
// still validates and stores the page in its turn, and may reuse what
// PrecheckResponse found in the same *Response (a zeroex.SignedOrder
// remembers a good signature). It may be called for a response that is
// never handled, and while the previous response is being handled.
type Prechecker interface {
	PrecheckResponse(ctx context.Context, resp *Response)
}

// InSyncReporter is an optional interface of a Subprotocol that can learn,
// without receiving them, that the requester already holds a provider's
// orders, as set reconciliation does. When a sync with a provider
// completes without a single valid order, the Service asks it: true means
// the sync showed that the provider's set was not empty and that the
// requester already held every order of it, so the sync counts as
// completed (the provider counts as synced for GetOrders) instead of
// ending with ErrNoOrdersFromPeer.
type InSyncReporter interface {
	InSync(provider peer.ID) bool
}

// Spreader is an optional interface of a Pipeliner whose sync can run in
// lanes: contiguous parts of what a provider holds (ranges of order hashes,
// say), each paged through by its own chain of requests, side by side on
// the same stream. With n lanes the requester keeps up to n requests in
// flight (WithLanes), so that over a link with a long round trip the
// provider always has a request to answer, instead of idling for a round
// trip after every page. Nothing changes on the wire: the provider still
// reads one request at a time and answers them in order; only the
// requester knows that the requests belong to lanes.
//
// Until a sync has spread, the requester calls Spread for each response
// that is not complete, with the early request NextRequest gave for it.
// Once Spread has returned more than one request, every later response of
// the sync goes, with the request it answers, to NextLaneRequest and
// HandleLaneResponse instead of NextRequest and HandleOrderSyncResponse.
// The requester hands back the very Request values the Spreader returned,
// so their Metadata may carry what the Spreader needs to know about their
// lane (where it ends, say) beside what goes on the wire.
//
// Lanes are ordered: a complete response to a request of lane i means the
// provider holds nothing after that request's cursor, so it ends every
// lane after lane i, and lane i too unless HandleLaneResponse returns a
// next request for it (a reconciliation after paging, say), which goes on
// a new stream. A lane also ends when NextLaneRequest and
// HandleLaneResponse return no next request; the sync is done when every
// lane is. Responses that end a lane pass the per-sync bounds and do not
// count towards them, as a complete response does without lanes: a sync
// with n lanes takes at most n of them.
type Spreader interface {
	Pipeliner
	// Spread splits what is left of a sync into at most n lanes. resp is
	// a response that is not complete, not yet validated, and next the
	// request that NextRequest returned for it. Spread returns the lanes'
	// first requests, in lane order: the first takes next's place (its
	// metadata encodes as next's does), and together they ask for what
	// next and the requests after it would. A result of at most one
	// request keeps the sync in one lane for now. Spread must not change
	// any state: the sync may yet end before the lanes start.
	Spread(ctx context.Context, resp *Response, next *Request, n int) ([]*Request, error)
	// NextLaneRequest returns, from resp alone, the request that follows
	// resp in the lane of req, the request resp answers, or nil when resp
	// ends the lane. It must return exactly what HandleLaneResponse will
	// return for the same response (the requester ends the sync with
	// ErrPipelineMismatch otherwise); an error means it cannot tell, and
	// HandleLaneResponse decides. It must not change any state, and it is
	// only called for responses that are not complete.
	NextLaneRequest(ctx context.Context, req *Request, resp *Response) (*Request, error)
	// HandleLaneResponse is HandleOrderSyncResponse for a lane: it
	// validates and stores the orders of resp, the answer to req, that
	// belong to req's lane, and returns how many were valid and the lane's
	// next request, or nil when the lane has ended.
	HandleLaneResponse(ctx context.Context, req *Request, resp *Response) (nextRequest *Request, numValidOrders int, err error)
}
