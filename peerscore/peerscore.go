// Package peerscore names every tag under which ordersync moves a peer's
// score in the node's connection manager, and by how much. Both roles of
// the ordersync Service, the pagination subprotocols' requester pipeline
// and reconcile's requester use these names, and so may a node that reads its peers' tags
// or a test that checks them.
//
// Most tags and changes are those existing 0x Mesh nodes use; TooLongSync,
// MessageTimeout, InvalidOrderSignature and InvalidOrder are this
// implementation's own. The module's docs/protocol.md, "Peer scores", says
// when each moves.
package peerscore

// The Service's tags, moved by the provider (P) and the requester (R).
const (
	// InvalidMessage gets InvalidMessageDelta added for a message that is
	// not valid JSON, too large, of the wrong type, for the wrong
	// subprotocol, or with metadata its subprotocol cannot parse (P, R).
	InvalidMessage = "ordersync/invalid-message"
	// ValidMessage is set to ValidMessageScore for a peer whose message
	// was valid (P, R).
	ValidMessage = "ordersync/valid-message"
	// NegotiationFailed is set to NegotiationFailedScore for a requester
	// that offered no subprotocol the provider speaks (P).
	NegotiationFailed = "ordersync/subprotocol-negotiation-failed"
	// UnexpectedDisconnect gets UnexpectedDisconnectDelta added when a
	// stream to a provider cannot be opened or written, but not when the
	// peer answers that it does not speak ordersync (a DHT or pubsub
	// neighbour is no provider); it is removed once the provider
	// delivers a valid order (R).
	UnexpectedDisconnect = "ordersync/unexpected-disconnect"
	// ReceivedOrders is set to ReceivedOrdersScore once a sync has taken
	// a valid order from the provider (R).
	ReceivedOrders = "ordersync/received-orders"
	// TooLongSync gets TooLongSyncDelta added for a provider cut off by
	// ordersync.WithMaxPagesPerSync or WithMaxOrdersPerSync (R).
	TooLongSync = "ordersync/too-long-sync"
	// MessageTimeout gets MessageTimeoutDelta added each time a peer lets
	// a message deadline pass: a stalling peer holds a stream slot for
	// the whole timeout (P, R).
	MessageTimeout = "ordersync/message-timeout"
)

// The pagination subprotocols' tags, moved by their requester pipeline for
// what a page holds.
const (
	// OrderDoesNotMatchFilter is set to OrderDoesNotMatchFilterScore when
	// a provider sends an order outside the requester's filter.
	OrderDoesNotMatchFilter = "received-order-does-not-match-filter"
	// InvalidOrderSignature gets InvalidOrderSignatureDelta added when a
	// page holds an order whose signature is not the maker's.
	InvalidOrderSignature = "ordersync/invalid-order-signature"
	// InvalidOrder gets InvalidOrderDelta added when a page holds a
	// malformed order, or orders out of order (unsorted, repeated, or past
	// the hash the provider says it scanned to).
	InvalidOrder = "ordersync/invalid-order"
	// RejectedOrder gets the Service's validator score
	// (ordersync.WithValidatorScore) added when a page holds orders that
	// the node's Validator rejected, or orders expired long ago.
	RejectedOrder = "ordersync/rejected-order"
)

// The reconcile subprotocol's tags, moved by its requester.
const (
	// UndeliveredOrders gets UndeliveredOrdersDelta added when a provider
	// did not deliver most of the orders it claimed in a fetch.
	UndeliveredOrders = "ordersync/undelivered-orders"
	// InvalidSketch gets InvalidSketchDelta added when a provider's coded
	// symbols were inconsistent, or decoded to a set its digest denies.
	InvalidSketch = "ordersync/invalid-sketch"
)

// The changes: a Score is set, a Delta added.
const (
	InvalidMessageDelta          = -5
	ValidMessageScore            = 5
	NegotiationFailedScore       = -5
	UnexpectedDisconnectDelta    = -1
	ReceivedOrdersScore          = 10
	TooLongSyncDelta             = -5
	MessageTimeoutDelta          = -1
	OrderDoesNotMatchFilterScore = -10
	InvalidOrderSignatureDelta   = -5
	InvalidOrderDelta            = -5
	UndeliveredOrdersDelta       = -5
	InvalidSketchDelta           = -5
)
