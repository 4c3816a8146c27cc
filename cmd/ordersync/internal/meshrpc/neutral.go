package meshrpc

import (
	"math/big"

	"github.com/ordersync/ordersync/zeroex"
)

// The values of fields in Mesh's answers that need an Ethereum chain, which
// this node does not follow. Each is what a client can parse and what says
// "nothing known from the chain".

// zeroHash is the hash of latestBlock: no block seen.
const zeroHash = "0x0000000000000000000000000000000000000000000000000000000000000000"

// unlimitedExpiration is maxExpirationTime while the store accepts any
// expiration: 2^256-1, as Mesh reported it.
const unlimitedExpiration = "115792089237316195423570985008687907853269984665640564039457584007913129639935"

// fillableWhileHeld is an order's fillableTakerAssetAmount while the node
// holds it: all of its takerAssetAmount, as if nothing were filled and the
// maker funded, since only the chain could say otherwise.
func fillableWhileHeld(o *zeroex.SignedOrder) string {
	if o == nil || o.TakerAssetAmount == nil {
		return "0"
	}
	return o.TakerAssetAmount.String()
}

// fillableGone is the fillableTakerAssetAmount of an order that left the
// node (EXPIRED, STOPPED_WATCHING), as Mesh reported it.
var fillableGone = new(big.Int).String()
