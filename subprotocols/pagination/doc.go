// Package pagination implements ordersync's pagination-with-filter
// subprotocols once, for every version: a requester pages through a
// provider's orders in order-hash order, sending its order filter with
// every request so that the provider only returns matching orders.
//
// The versions differ only in their metadata, and in how it writes the
// cursor: package filteredpagination ("/pagination-with-filter/version/1")
// as an order hash, package ordinal ("/pagination-with-filter/version/0")
// as a page number and a "snapshotID". Such a package is its metadata
// types, a Codec, and a New that calls this package's New with them.
// Everything else is the Subprotocol that New returns, generic over the
// metadata types: the provider's page scan over an orderstore.Store, the
// requester's validation pipeline for the orders a provider sends,
// pipelining (ordersync.Pipeliner), lanes (ordersync.Spreader), and the
// Options every version's New takes. That engine lives in
// subprotocols/internal/paging, which package reconcile runs the orders it
// fetches and pages through as well, so that every subprotocol validates
// orders the same way; this package is what a new version needs: Codec,
// New, the Options, the errors and PeerScorer.
//
// # Requester pipeline
//
// Every order a provider sends goes through, in this order:
//
//  1. well-formed: no missing field, every number a uint256;
//  2. in range: its hash is strictly after the cursor the requester asked
//     from, strictly after every earlier order of the same page (pages are
//     ascending, so this also rejects duplicates), and not past the bound
//     the provider claims to have scanned to;
//  3. signature: EIP-712 or EthSign by the maker (zeroex.VerifySignatures,
//     on all cores); wallet, validator, pre-signed and EIP-1271 signatures
//     need a chain and are dropped as unverifiable;
//  4. the requester's own filter, when it has one;
//
// and the survivors are added to the store. Each dropped order is reported,
// once per page and reason, by the first check it failed, as an
// ordersync.RejectReason, to the tracer the Service hands the subprotocol
// (ordersync.MetricsReporter); the Service's Stats and its MetricsTracer
// count them from there.
//
// # Cursors
//
// A cursor is an order hash: a request asks for the orders after it. A
// requester remembers, per provider, the cursor of the last request it
// produced for it (none: the beginning). A response must move that cursor
// forward: the hash of its last order, or, with page numbers, the hash the
// provider says it scanned to, must lie strictly after it. A provider that
// sends the same page again and again does not, and its sync ends with
// ErrCursorStalled (the sync ends as ordersync.SyncRejectedPage). A complete
// response, or an error, forgets the provider's cursor.
//
// # Lanes
//
// Subprotocol is an ordersync.Spreader: after a sync's first page it can
// split the hashes after that page into lanes of equal width, which the
// requester pages through side by side, one request in flight each
// (ordersync.WithLanes). A lane's requests carry their lane in memory
// (only the subprotocol's own metadata goes on the wire), and a page is
// checked against the cursor of the very request it answers rather than
// the per-provider one, so an
// order at or before it counts against the provider. The orders of a
// page at or past the lane's end belong to the next lane: they are
// dropped before any check, unscored, and the lane ends.
//
// # Peer scores
//
// Through the PeerScorer option (ordersync.Node satisfies it), a provider's
// score moves per page, under tags named in package peerscore:
//
//	event                                   tag                                    change
//	an order does not match the filter      received-order-does-not-match-filter   set -10
//	an order has a bad signature            ordersync/invalid-order-signature      add -5
//	an order is malformed, or out of order  ordersync/invalid-order                add -5
//
// The first is the network's; the other two are this library's (the
// module's docs/protocol.md, "Peer scores", lists every tag).
// A page costs a provider at most one step of each, however many of its
// orders are bad. Unverifiable signature types are not penalised: honest
// providers hold such orders.
package pagination
