package zeroex

import (
	"fmt"
	"math/big"
	"math/bits"
)

// The JSON field names of a signed order, in the order existing nodes write
// them.
const (
	fieldChainID               = "chainId"
	fieldExchangeAddress       = "exchangeAddress"
	fieldMakerAddress          = "makerAddress"
	fieldMakerAssetData        = "makerAssetData"
	fieldMakerFeeAssetData     = "makerFeeAssetData"
	fieldMakerAssetAmount      = "makerAssetAmount"
	fieldMakerFee              = "makerFee"
	fieldTakerAddress          = "takerAddress"
	fieldTakerAssetData        = "takerAssetData"
	fieldTakerFeeAssetData     = "takerFeeAssetData"
	fieldTakerAssetAmount      = "takerAssetAmount"
	fieldTakerFee              = "takerFee"
	fieldSenderAddress         = "senderAddress"
	fieldFeeRecipientAddress   = "feeRecipientAddress"
	fieldExpirationTimeSeconds = "expirationTimeSeconds"
	fieldSalt                  = "salt"
	fieldSignature             = "signature"
)

// maxUint256BitLen is the bit length of the largest value a uint256 holds.
const maxUint256BitLen = 256

// fieldError is the error for a bad value in the named JSON field.
func fieldError(field, format string, args ...interface{}) error {
	return fmt.Errorf("zeroex: field %q: "+format, append([]interface{}{field}, args...)...)
}

// checkUint256 reports whether n fits a uint256, naming field if not.
func checkUint256(field string, n *big.Int) error {
	switch {
	case n == nil:
		return fieldError(field, "missing (nil)")
	case n.Sign() < 0:
		return fieldError(field, "negative: %s", n)
	case !fitsUint256Words(n):
		return fieldError(field, "above 2^256-1: %s", n)
	}
	return nil
}

// fitsUint256Words reports whether n's magnitude fits 256 bits. A big.Int's
// words are normalized (no leading zero word), so their count tells; unlike
// BitLen it does not read the words themselves, which for an order held a
// while are often not in the cache: a provider checks every order it
// serves, on every request.
func fitsUint256Words(n *big.Int) bool {
	return len(n.Bits()) <= maxUint256BitLen/bits.UintSize
}

// checkNumbers checks every numeric field of o, in JSON field order.
func (o *Order) checkNumbers() error {
	for _, f := range [...]struct {
		name string
		n    *big.Int
	}{
		{fieldChainID, o.ChainID},
		{fieldMakerAssetAmount, o.MakerAssetAmount},
		{fieldMakerFee, o.MakerFee},
		{fieldTakerAssetAmount, o.TakerAssetAmount},
		{fieldTakerFee, o.TakerFee},
		{fieldExpirationTimeSeconds, o.ExpirationTimeSeconds},
		{fieldSalt, o.Salt},
	} {
		if err := checkUint256(f.name, f.n); err != nil {
			return err
		}
	}
	return nil
}
