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
