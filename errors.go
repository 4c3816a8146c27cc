package ordersync

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNoOrders is part of GetOrders's error when its context ended
	// before any peer delivered a valid order.
	ErrNoOrders = errors.New("ordersync: no orders received from any peer")

	// ErrNoOrdersFromPeer means a sync with one provider finished without
	// delivering a valid order; that provider does not count towards
	// GetOrders's minPeers. Stats reports it as a peer's last error.
	ErrNoOrdersFromPeer = errors.New("ordersync: peer sent no valid orders")

	// ErrTooFewPeers is returned by GetOrders when the backoff schedule
	// (see WithBackoffFactory) stopped before minPeers peers had synced.
	// The default schedule never stops.
	ErrTooFewPeers = errors.New("ordersync: backoff schedule ended before enough peers synced")

	// ErrInvalidMinPeers is returned by GetOrders and
	// PeriodicallyGetOrders for a minPeers below 1.
	ErrInvalidMinPeers = errors.New("ordersync: minPeers must be at least 1")

	// ErrStore is part of a sync's error when the node's own store
	// failed (AddOrders or AdmitOrders returned an error): the provider
	// is not blamed, the failure is logged at Warn, and GetOrders returns
	// it (wrapped) rather than retrying for ever when a round synced with
	// no peer because of it.
	ErrStore = errors.New("ordersync: store failed")

	// ErrInvalidMessage means a peer sent a message that is not valid
	// JSON, has the wrong type, names the wrong subprotocol or has
	// metadata its subprotocol cannot parse. The stream is closed and the
	// peer's score lowered.
	ErrInvalidMessage = errors.New("ordersync: invalid message")

	// ErrMessageTooLarge means a peer's message was over the size bound
	// (WithMaxRequestSize, WithMaxResponseSize). It was not read whole;
	// the stream is reset and the peer's score lowered.
	ErrMessageTooLarge = errors.New("ordersync: message too large")

	// ErrTooManyPages means a provider sent a page with orders after the
	// most pages a requester takes in one sync (WithMaxPagesPerSync).
	ErrTooManyPages = errors.New("ordersync: too many pages in one sync")

	// ErrTooManyOrders means a provider sent a page that would take the
	// sync past the most orders a requester takes in one sync
	// (WithMaxOrdersPerSync).
	ErrTooManyOrders = errors.New("ordersync: too many orders in one sync")
)

// ErrPipelineMismatch means that the request a Pipeliner subprotocol asked
// for early, before validating a response, differs from the one its
// HandleOrderSyncResponse returned for that response: a subprotocol bug, or
// a page that the subprotocol judges differently the second time. The sync
// ends and is not resumed.
var ErrPipelineMismatch = errors.New("ordersync: request sent before validation differs from the subprotocol's next request")

// NoMatchingSubprotocolsError is the error of a negotiation in which the
// provider supports none of the subprotocols the requester listed.
type NoMatchingSubprotocolsError struct {
	// Requested are the subprotocols the requester listed.
	Requested []string
	// Supported are the subprotocols the provider supports.
	Supported []string
}

// Error names both lists.
func (e NoMatchingSubprotocolsError) Error() string {
	return fmt.Sprintf("ordersync: no matching subprotocols: requested [%s], supported [%s]",
		strings.Join(e.Requested, ", "), strings.Join(e.Supported, ", "))
}
