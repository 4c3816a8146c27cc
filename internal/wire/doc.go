// Package wire is where ordersync's messages become bytes and bytes become
// messages: the request and response envelopes, the first and later
// requests a requester writes, the provider's response encoding (with each
// subprotocol's cached prefix), the requester's one-pass response decoder,
// and, beneath them, the bounded message framing of a stream (package
// framing). The root package keeps the public names (ordersync.ID,
// Request, Response, Type*, the errors) and decides what a message means;
// this package only says how it is spelled.
//
// Every encoder here writes byte for byte what encoding/json writes for the
// same envelope, and every decoder accepts what encoding/json accepts;
// the tests and fuzz targets in this package hold them to it.
package wire
