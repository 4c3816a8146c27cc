package ordersync

import (
	"errors"
	"net"
	"os"
)

// Peer-score tags, as existing 0x Mesh nodes set them in the connection
// manager (docs/protocol.md, "Peer scores"), and two of this implementation's own:
// too-long-sync for a provider cut off by WithMaxPagesPerSync or
// WithMaxOrdersPerSync, and message-timeout for a peer that let a message
// deadline pass (a stalling peer holds a stream slot for the whole timeout).
const (
	tagInvalidMessage         = "ordersync/invalid-message"
	tagValidMessage           = "ordersync/valid-message"
	tagNegotiationFailed      = "ordersync/subprotocol-negotiation-failed"
	tagUnexpectedDisconnect   = "ordersync/unexpected-disconnect"
	tagReceivedOrders         = "ordersync/received-orders"
	tagTooLongSync            = "ordersync/too-long-sync"
	tagMessageTimeout         = "ordersync/message-timeout"
	scoreInvalidMessage       = -5
	scoreValidMessage         = 5
	scoreNegotiationFailed    = -5
	scoreUnexpectedDisconnect = -1
	scoreReceivedOrders       = 10
	scoreTooLongSync          = -5
	scoreMessageTimeout       = -1
)

// isTimeout says whether err is a stream deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
