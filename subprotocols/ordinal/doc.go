// Package ordinal is the ordersync subprotocol
// "/pagination-with-filter/version/0": a requester pages through a
// provider's orders by page number, sending its order filter with every
// request so that the provider only returns matching orders. Nodes that
// do not speak version 1 (package filteredpagination) still speak this one.
//
// Request metadata is {"orderfilter": <filter or null>, "page": <int>,
// "snapshotID": "<string>"}. Despite the names, the cursor is snapshotID:
// the hex hash of the order to continue after ("" for the start), as
// existing providers use it. The provider returns up to a page of matching
// orders after that hash and {"page": <the same page>, "snapshotID": "<hex
// hash of the last order it scanned>"}; the requester asks next for page+1
// from that snapshotID.
//
// This package holds only what is its own: Name, the metadata types and
// their parsers, the codec that writes the cursor in them, and New. The
// Subprotocol is package pagination's, which serves the pages, checks and
// stores the orders received, and whose Options New takes.
package ordinal
