// Package filteredpagination is the ordersync subprotocol
// "/pagination-with-filter/version/1": a requester pages through a
// provider's orders with an order-hash cursor, sending its order filter
// with every request so that the provider only returns matching orders.
//
// Request metadata is {"orderfilter": <filter or null>, "minOrderHash":
// "0x<64 hex>"}; the provider returns up to a page of matching orders whose
// hash is strictly greater than minOrderHash, and {"nextMinOrderHash":
// "0x<64 hex>"}, the hash of the last order it scanned. The requester asks
// next from the hash of the last order it received. Existing nodes prefer
// this subprotocol.
//
// This package holds only what is its own: Name, the metadata types and
// their parsers, the codec that writes the cursor in them, and New. The
// Subprotocol is package pagination's, which serves the pages, checks and
// stores the orders received, and whose Options New takes.
package filteredpagination
