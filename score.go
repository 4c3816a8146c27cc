package ordersync

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/peerscore"
)

// scorer moves peers' scores for what they did, one method per event, for
// both roles. The tags and changes are package peerscore's; besides the
// network's own, a peer loses 1 under peerscore.MessageTimeout each time it
// lets a message deadline pass, and a provider cut off by
// WithMaxPagesPerSync or WithMaxOrdersPerSync loses 5 under
// peerscore.TooLongSync.
type scorer struct{ node Node }

// invalidMessage: p sent a message that is not valid or too large.
func (sc scorer) invalidMessage(p peer.ID) {
	sc.node.AddPeerScore(p, peerscore.InvalidMessage, peerscore.InvalidMessageDelta)
}

// validMessage: p sent a valid message.
func (sc scorer) validMessage(p peer.ID) {
	sc.node.SetPeerScore(p, peerscore.ValidMessage, peerscore.ValidMessageScore)
}

// negotiationFailed: requester p offered no subprotocol the provider
// speaks.
func (sc scorer) negotiationFailed(p peer.ID) {
	sc.node.SetPeerScore(p, peerscore.NegotiationFailed, peerscore.NegotiationFailedScore)
}

// unexpectedDisconnect: a stream to provider p could not be opened or
// written.
func (sc scorer) unexpectedDisconnect(p peer.ID) {
	sc.node.AddPeerScore(p, peerscore.UnexpectedDisconnect, peerscore.UnexpectedDisconnectDelta)
}

// receivedOrders: provider p delivered its sync's first valid order, which
// also forgives its earlier disconnects.
func (sc scorer) receivedOrders(p peer.ID) {
	sc.node.SetPeerScore(p, peerscore.ReceivedOrders, peerscore.ReceivedOrdersScore)
	sc.node.UnsetPeerScore(p, peerscore.UnexpectedDisconnect)
}

// tooLongSync: provider p was cut off by the per-sync bounds.
func (sc scorer) tooLongSync(p peer.ID) {
	sc.node.AddPeerScore(p, peerscore.TooLongSync, peerscore.TooLongSyncDelta)
}

// messageTimeout: p let a message deadline pass.
func (sc scorer) messageTimeout(p peer.ID) {
	sc.node.AddPeerScore(p, peerscore.MessageTimeout, peerscore.MessageTimeoutDelta)
}

const (
	readOther    readFault = iota // the stream broke, or the Service stopped
	readTooLarge                  // the peer's message passed the size bound
	readInvalid                   // the peer's message is not a JSON object, or nests too deep
	readTimeout                   // the peer let the message deadline pass
)

// badRead scores p for a message read from it that failed, by whose fault
// it was (see classifyRead): a message too large or malformed is an
// invalid message, a deadline passed a message timeout, anything else
// nobody's.
func (sc scorer) badRead(p peer.ID, fault readFault) {
	switch fault {
	case readTooLarge, readInvalid:
		sc.invalidMessage(p)
	case readTimeout:
		sc.messageTimeout(p)
	}
}
