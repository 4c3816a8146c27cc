// Package zeroex is the signed 0x v3 order: its JSON form, its EIP-712 hash
// and its signatures, as the 0x Mesh network exchanges them.
package zeroex

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// Order is an unsigned 0x v3 order.
//
// Treat an Order as immutable once its hash or JSON has been asked for: both
// are cached. After changing a field, call ResetHash.
type Order struct {
	ChainID               *big.Int
	ExchangeAddress       common.Address
	MakerAddress          common.Address
	MakerAssetData        []byte
	MakerFeeAssetData     []byte
	MakerAssetAmount      *big.Int
	MakerFee              *big.Int
	TakerAddress          common.Address
	TakerAssetData        []byte
	TakerFeeAssetData     []byte
	TakerAssetAmount      *big.Int
	TakerFee              *big.Int
	SenderAddress         common.Address
	FeeRecipientAddress   common.Address
	ExpirationTimeSeconds *big.Int
	Salt                  *big.Int
}

// SignedOrder is an Order with its maker's signature.
type SignedOrder struct {
	Order
	Signature []byte
}
