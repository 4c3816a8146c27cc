// Package orderfilter decides which 0x orders a node wants: a Filter is a
// chain ID, an exchange address and a custom JSON Schema (draft-07) that an
// order's JSON must satisfy. Peers send their filter with every ordersync
// request, so a provider only returns orders the requester wants, and the
// requester checks every order it receives against the same filter.
//
// Every Filter applies built-in checks first: every field of the order is
// present and well formed, chainId equals the filter's chain ID, and
// exchangeAddress equals the filter's exchange address. The custom schema is
// applied on top, to the order's JSON as the network writes it (lowercase hex
// addresses, chainId a number, amounts as decimal strings, "0x" for empty
// bytes). A custom schema may $ref the built-in schemas /address,
// /wholeNumber, /hex, /order and /signedOrder; nothing else is ever loaded,
// from the network or from disk.
//
// Filters come from remote peers, so compiling is bounded
// (MaxCustomOrderSchemaSize), never panics, and rejects schemas that cannot
// be evaluated; Parse caches compiled filters because a provider sees the
// same filter bytes in every request of a sync.
//
// # Why santhosh-tekuri/jsonschema/v6
//
// Both candidates get draft-07 right on $ref siblings, const, enum, pattern
// and required. We chose santhosh-tekuri/jsonschema/v6 because a hostile
// filter cannot take a node down with it: gojsonschema v1.2.0 dies with a
// fatal stack overflow on {"$ref":"#"}, fetches unknown $refs over HTTP and
// from disk, and JSON-encodes every instance before validating; v6 reports
// reference cycles as errors, loads only through the loader we give it,
// and validates our map directly, about 7 times faster on our orders.
package orderfilter
