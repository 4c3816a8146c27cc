package ordersync

// Peer-score tags, as existing 0x Mesh nodes set them in the connection
// manager (WIRE.md "Peer score").
const (
	tagInvalidMessage         = "ordersync/invalid-message"
	tagValidMessage           = "ordersync/valid-message"
	tagNegotiationFailed      = "ordersync/subprotocol-negotiation-failed"
	tagUnexpectedDisconnect   = "ordersync/unexpected-disconnect"
	tagReceivedOrders         = "ordersync/received-orders"
	tagTooLongSync            = "ordersync/too-long-sync"
	scoreInvalidMessage       = -5
	scoreValidMessage         = 5
	scoreNegotiationFailed    = -5
	scoreUnexpectedDisconnect = -1
	scoreReceivedOrders       = 10
	scoreTooLongSync          = -5
)
