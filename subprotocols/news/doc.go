// Package news passes a node's new orders on to its neighbours as they
// arrive, so that an order crosses the network in about half a round trip
// per hop instead of one sync round per hop. It is a protocol of its own
// beside ordersync's (ID, "/ordersync/news/2.0.0"), which nodes of the
// original network never see; periodic syncs stay the backstop that
// catches whatever news missed.
//
// A News subscribes to its store's change feed (orderstore.Subscriber).
// The orders the store did not hold, added by the node's API or its own
// code (not by a sync: the syncs carry those), are pushed whole, a few milliseconds
// later, to the neighbours the node holds as eager, and their hashes are
// announced, batched for longer, to the others (the lazy ones), leaving
// out every neighbour known to hold them; an announcement leaves with the
// next push or get to that neighbour, if one comes soon. A node pushed an order it holds
// already prunes that link (both ends make it lazy), so that the eager
// links thin out to a tree that carries each order to each node once; a
// node announced an order no push brings in time fetches it from the
// announcer, and grafts that link (both ends make it eager again) if no
// push of it comes at all. Orders a node got off the tree (fetched after
// an announcement) go on as relays, whose duplicates prune nothing. These are
// epidemic broadcast trees (Plumtree), one tree per origin (the node where
// an order entered the network, named in every push, announcement, prune
// and graft), so that one origin's duplicates cannot cut another's tree.
//
// What a node is pushed or fetches is claimed through the Service's one
// view of missing orders (ordersync.Claims of its own, which no sync's end
// releases), so that no other fetch gets it at the same time, and runs
// through the same checks as a sync's pages (signature, filter, expiry, the node's Validator, the
// store; the counts, metrics and peer scores): a News is a companion of
// one ordersync.Service and uses that Service's pieces.
//
// News is for a node that is current: while its store takes in orders by
// the hundred a second (a first sync), it neither pushes, announces nor
// fetches, and leaves them to the syncs (WithBulkRate).
//
// Every peer has a budget of hashes and orders a second it may announce,
// push and ask for; a peer over it has the excess dropped and its score
// lowered. A fetch that is not answered within the fetch timeout releases
// its hashes (the next announcement or sync gets them) and lowers the
// announcer's score, as do orders it was never asked for, announced orders
// it does not deliver, and pushed orders that fail the checks.
// docs/protocol.md, "News", is the specification.
package news
