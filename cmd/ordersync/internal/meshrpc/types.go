package meshrpc

import (
	"time"

	"github.com/ordersync/ordersync/zeroex"
)

// The JSON shapes of Mesh v9's answers, field for field as its
// TypeScript client reads them.

// validationResults is mesh_addOrders's answer.
type validationResults struct {
	Accepted []*acceptedOrderInfo `json:"accepted"`
	Rejected []*rejectedOrderInfo `json:"rejected"`
}

// acceptedOrderInfo is an order the node now holds; IsNew is false when it
// held it already.
type acceptedOrderInfo struct {
	OrderHash                string              `json:"orderHash"`
	SignedOrder              *zeroex.SignedOrder `json:"signedOrder"`
	FillableTakerAssetAmount string              `json:"fillableTakerAssetAmount"`
	IsNew                    bool                `json:"isNew"`
}

// rejectedOrderInfo is an order the node did not store, and why.
// SignedOrder is null when the order could not be read at all, and
// OrderHash is then the zero hash.
type rejectedOrderInfo struct {
	OrderHash   string              `json:"orderHash"`
	SignedOrder *zeroex.SignedOrder `json:"signedOrder"`
	Kind        string              `json:"kind"`
	Status      rejectedStatus      `json:"status"`
}

type rejectedStatus struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// orderInfo is one order of mesh_getOrders.
type orderInfo struct {
	OrderHash                string              `json:"orderHash"`
	SignedOrder              *zeroex.SignedOrder `json:"signedOrder"`
	FillableTakerAssetAmount string              `json:"fillableTakerAssetAmount"`
}

// getOrdersResponse is mesh_getOrders's answer.
type getOrdersResponse struct {
	SnapshotID        string       `json:"snapshotID"`
	SnapshotTimestamp time.Time    `json:"snapshotTimestamp"`
	OrdersInfos       []*orderInfo `json:"ordersInfos"`
}

// latestBlock is the chain's head as Mesh saw it; here always number 0
// with the zero hash.
type latestBlock struct {
	Number int    `json:"number"`
	Hash   string `json:"hash"`
}

// stats is mesh_getStats's answer.
type stats struct {
	Version                           string      `json:"version"`
	PubSubTopic                       string      `json:"pubSubTopic"`
	Rendezvous                        string      `json:"rendezvous"`
	SecondaryRendezvous               []string    `json:"secondaryRendezvous"`
	PeerID                            string      `json:"peerID"`
	EthereumChainID                   int         `json:"ethereumChainID"`
	LatestBlock                       latestBlock `json:"latestBlock"`
	NumPeers                          int         `json:"numPeers"`
	NumOrders                         int         `json:"numOrders"`
	NumOrdersIncludingRemoved         int         `json:"numOrdersIncludingRemoved"`
	NumPinnedOrders                   int         `json:"numPinnedOrders"`
	MaxExpirationTime                 string      `json:"maxExpirationTime"`
	StartOfCurrentUTCDay              time.Time   `json:"startOfCurrentUTCDay"`
	EthRPCRequestsSentInCurrentUTCDay int         `json:"ethRPCRequestsSentInCurrentUTCDay"`
	EthRPCRateLimitExpiredRequests    int64       `json:"ethRPCRateLimitExpiredRequests"`
}

// orderEvent is one entry of an "orders" notification.
type orderEvent struct {
	Timestamp                time.Time           `json:"timestamp"`
	OrderHash                string              `json:"orderHash"`
	SignedOrder              *zeroex.SignedOrder `json:"signedOrder"`
	EndState                 string              `json:"endState"`
	FillableTakerAssetAmount string              `json:"fillableTakerAssetAmount"`
	ContractEvents           []struct{}          `json:"contractEvents"`
}

// addOrdersOptions is mesh_addOrders's second parameter.
type addOrdersOptions struct {
	Pinned bool `json:"pinned"`
}

// The end states of order events this node reports.
const (
	endAdded           = "ADDED"
	endExpired         = "EXPIRED"
	endStoppedWatching = "STOPPED_WATCHING"
)
