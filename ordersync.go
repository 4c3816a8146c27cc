// Package ordersync is the order-sharing protocol that 0x Mesh nodes run when
// they join the network: a node (the requester) asks its libp2p peers (the
// providers) for the orders they hold and stores what it gets.
//
// A node builds one Service with New on its libp2p host. New registers the
// provider side (HandleStream) for protocol ID at once; the requester side
// runs when the node calls it: PeriodicallySyncNeighbors to stay current
// with whichever peers are connected, SyncPeer when a peer connects, and
// the original GetOrders and PeriodicallyGetOrders, which wait until
// minPeers peers have synced. These calls may run at once: the Service
// never runs two syncs with one provider side by side.
//
// # Several providers, one copy
//
// The Service keeps one view of the orders being fetched, which it hands
// to its subprotocols (Validation): a subprotocol that fetches by hash
// (reconcile) claims each missing order before fetching it, so that
// concurrent syncs fetch it from one provider, wait for that fetch, and
// fetch it themselves only if it failed. A first sync into an empty store
// pages; several first syncs at once page a share of the hash space each
// (Validation.TakeShare), a provider that pages faster takes over part of
// a slower one's share, and each then reconciles with its provider to find
// what the shares missed. Providers that only page (the original
// network's subprotocols) are synced whole, as before.
//
// A provider counts as synced (for GetOrders' minPeers, and SyncPeer's
// nil) when its sync delivered at least one valid order, as in the
// original protocol, or, with a subprotocol that reconciles
// (InSyncReporter), when the sync showed that this node holds every
// order of the provider's set that it did not reject, whichever provider
// delivered them.
//
// What a requester stores passes the library's checks (well formed, in
// range, signed by the maker, within its filter), the Service's expiry
// rule (WithExpiry) and the node's own Validator (WithValidator), and
// then the store's own rules; what fails is counted by reason, scored and
// not fetched again. The store's change feed (orderstore.Subscriber) is the
// node's notification of orders added and removed; Revalidate re-checks
// what the store holds.
//
// Peers agree on a pluggable Subprotocol per stream: the requester lists the
// subprotocols it supports, most preferred first, and the provider takes the
// first one it supports. Requester and provider then loop request/response on
// that one stream until the provider says the exchange is complete. The
// subprotocols the network speaks live in the subprotocols/ directory of this
// module.
//
// Every message from a peer is bounded in size and time (see the Option
// functions); a peer that sends more, sends garbage or stalls has its stream
// closed and its score lowered, and never takes the Service down.
//
// Stats counts what the Service did; WithMetricsTracer reports the same
// events to a MetricsTracer, and NewMetricsTracer exports them as
// Prometheus series (docs/metrics.md lists them).
//
// The protocol, message by message with every bound and default, is
// written down in docs/protocol.md in this module's repository.
//
// # Which libp2p
//
// This module builds on go-libp2p v0.51.0 (see its go.mod) and its core
// packages (github.com/libp2p/go-libp2p/core/...); a node that imports it
// must build on that go-libp2p or a later one. A node still on
// github.com/libp2p/go-libp2p-core v0.6, as deployed 0x Mesh nodes are,
// cannot link it: the types differ, and the multiaddr and CID versions the
// two need no longer agree. Deployed Mesh nodes also secure connections
// with secio only, which current go-libp2p no longer has (it offers TLS
// and Noise), so a node built on this module cannot connect to them:
// interoperability with them is at the protocol level, the same bytes on
// any connection both sides can make.
//
// # Where the wire format leaves a choice
//
// The wire format is that of the existing nodes. Where it is silent, this
// package does the following (docs/protocol.md has the full list, and the
// two places where this module deliberately differs from the original
// nodes):
//
//   - A sync that broke off resumes on a new stream whose first request
//     names only the chosen subprotocol and carries that subprotocol's own
//     metadata, unwrapped, as later requests do. A provider unwraps a first
//     request's metadata only when it decodes to {"metadata":[...]} with an
//     entry for the chosen subprotocol; otherwise the subprotocol gets it as
//     it came. Existing providers accept this resumed request as well.
//   - A provider closes a stream after WithMaxRequestsPerStream pages,
//     leaving the next request unanswered unless its answer completes the
//     sync; a requester whose stream is closed cleanly after at least one
//     page goes on at once on a new stream. A reset or a timeout ends the sync for this
//     round; the next round resumes it.
//   - The rate limit charges a stream's first request when the stream opens
//     and each later one when it has been read. A provider also caps the
//     streams it serves at once, in all (WithMaxStreams) and per peer
//     (WithMaxStreamsPerPeer), resetting streams beyond the caps.
//   - Whitespace between messages counts towards the message size bound.
//   - Besides the tags of the wire format, a peer's score loses 1 under
//     ordersync/message-timeout each time it lets a message deadline pass,
//     and a provider cut off by WithMaxPagesPerSync or WithMaxOrdersPerSync
//     gets -5 under ordersync/too-long-sync.
package ordersync

import (
	"encoding/json"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ordersync/ordersync/zeroex"
)

// ID is the libp2p protocol ID of ordersync. It is the one existing 0x Mesh
// nodes register, so that we interoperate with them.
const ID = protocol.ID("/0x-mesh/order-sync/version/0")

// The values of a message's "type" field. Any other value makes a message
// invalid.
const (
	// TypeRequest marks a message from a requester to a provider.
	TypeRequest = "Request"
	// TypeResponse marks a message from a provider to a requester.
	TypeResponse = "Response"
)

// Request is a request for orders, as a Subprotocol sees it: the wire
// envelope has been removed and Metadata has been parsed by the subprotocol's
// ParseRequestMetadata.
type Request struct {
	// RequesterID is the peer that sent the request.
	RequesterID peer.ID `json:"requesterID"`
	// Metadata is the subprotocol's own request metadata.
	Metadata interface{} `json:"metadata"`
}

// Response is a provider's answer to a Request, as a Subprotocol sees it.
type Response struct {
	// ProviderID is the peer that sent the response.
	ProviderID peer.ID `json:"providerID"`
	// Orders are the orders of this page. A requester must validate every
	// one of them: they come from a peer.
	Orders []*zeroex.SignedOrder `json:"orders"`
	// Complete is true when the provider has nothing more to send.
	Complete bool `json:"complete"`
	// Metadata is the subprotocol's own response metadata.
	Metadata interface{} `json:"metadata"`
}

// FirstRequestsForSubprotocols is the metadata of the first request on a
// stream: one entry per subprotocol that the request lists, in the same
// order, each that subprotocol's first-request metadata. The type's name
// and its field's (MetadataForSubprotocol, "metadata" on the wire) are the
// original 0x Mesh implementation's, kept for code written against it; a
// name of our own would have been FirstRequestMetadata.
type FirstRequestsForSubprotocols struct {
	MetadataForSubprotocol []json.RawMessage `json:"metadata"`
}
