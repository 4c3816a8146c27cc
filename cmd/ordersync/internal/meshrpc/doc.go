// Package meshrpc serves 0x Mesh v9's JSON-RPC API for "ordersync node
// --rpc": mesh_addOrders, mesh_getOrders, mesh_getStats, mesh_addPeer and
// mesh_subscribe to "orders" and "heartbeat", over HTTP and WebSocket on one
// address, with go-ethereum's rpc package as Mesh itself did. Mesh's
// published clients work against it unchanged.
//
// It is a private API for the node's operator: it has no authentication,
// and listens on loopback unless told otherwise.
//
// The node follows no Ethereum chain, so every field of Mesh's answers that
// needs one gets a fixed, documented value (see neutral.go): orders are as
// fillable as their takerAssetAmount while held and 0 once gone, the latest
// block is number 0 with the zero hash, contract events are an empty list,
// and the Ethereum RPC counters are 0.
//
// Everything a client sends is bounded (Limits): the request's size, the
// orders in one call, the orders in a page, the snapshots and subscriptions
// of one connection. A subscriber that does not keep up is dropped, its
// connection closed, rather than buffered for. A panic in a method ends
// that call (go-ethereum's rpc recovers it); one in a subscription's
// goroutine ends that subscription; neither ends the node.
//
// The package lives under cmd/ordersync/internal so that the library's
// public surface does not grow by an API that is the node program's.
package meshrpc
