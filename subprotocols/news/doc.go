// Package news tells a node's neighbours of its new orders as they arrive,
// so that an order crosses the network in about a round trip and a half
// per hop instead of one sync round per hop. It is a protocol of its own
// beside ordersync's (ID, "/ordersync/news/1.0.0"), which nodes of the
// original network never see; periodic syncs stay the backstop that
// catches whatever an announcement missed.
//
// A News subscribes to its store's change feed (orderstore.Subscriber).
// The hashes of the orders the store did not hold, whoever added them (a
// sync, the node's API, the node's own code), are batched for a few
// milliseconds and announced to each neighbour that speaks the protocol and
// is not known to hold them already (not back to the peer they came from).
// A neighbour drops the hashes it holds, claims the rest through the
// Service's one view of missing orders (ordersync.Claims of its own), so
// that no other announcement, nor a sync that claims through the same
// view, fetches them at the same time, and gets them from the announcer on its own news stream to it. What it
// gets runs through the same checks as a sync's pages (signature, filter,
// expiry, the node's Validator, the store; the counts, metrics and peer
// scores): a News is a companion of one ordersync.Service and uses that
// Service's pieces.
//
// News is for a node that is current: while its store takes in orders by
// the hundred a second (a first sync), it neither announces nor fetches,
// and leaves them to the syncs (WithBulkRate).
//
// Every peer has a budget of hashes a second it may announce and ask for;
// a peer over it has the excess dropped and its score lowered. A fetch
// that is not answered within the fetch timeout releases its hashes (the
// next announcement or sync gets them) and lowers the announcer's score,
// as do orders it was never asked for and announced orders it does not
// deliver. docs/protocol.md, "News", is the specification.
package news
