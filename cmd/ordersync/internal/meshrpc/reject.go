package meshrpc

import "fmt"

// The kinds of rejection, as Mesh v9.4.2 names them.
const (
	KindZeroExValidation = "ZEROEX_VALIDATION"
	KindMeshValidation   = "MESH_VALIDATION"
	KindMeshError        = "MESH_ERROR"
)

// Rejection is why an order was not stored: a kind and one of Mesh v9.4.2's
// codes, with a message for people. A Validator answers with them.
type Rejection struct {
	Kind, Code, Message string
}

// The rejections mesh_addOrders gives, with Mesh v9.4.2's codes.
var (
	rejectInvalidSignature = Rejection{KindZeroExValidation, "OrderHasInvalidSignature", "order signature must be valid"}
	rejectExpired          = Rejection{KindZeroExValidation, "OrderExpired", "order expired according to the node's clock and expiry margin"}
	rejectIncorrectChain   = Rejection{KindMeshValidation, "OrderForIncorrectChain", "order was created for a different chain than the one this node is configured to support"}
	rejectMaxExpiration    = Rejection{KindMeshValidation, "OrderMaxExpirationExceeded", "order expiration too far in the future"}
	rejectDatabaseFull     = Rejection{KindMeshError, "DatabaseFullOfOrders", "the store is full of pinned orders and none can be evicted to make room"}
	rejectInternal         = Rejection{KindMeshError, "InternalError", "an unexpected internal error has occurred"}
	// rejectRefused: the store did not keep an order and gave no reason.
	rejectRefused = Rejection{KindMeshError, "InternalError", "the store refused the order"}
)

// rejectSchema is an order that is not well formed or not wanted by the
// node's filter (Mesh's InvalidSchema, for orders failing its JSON schema).
func rejectSchema(why error) Rejection {
	return Rejection{KindMeshValidation, "InvalidSchema", fmt.Sprintf("order did not pass JSON-schema validation: %v", why)}
}
