package zeroex

import (
	"bytes"
	"math/big"
)

// Equal reports whether o and p have the same fields. Caches are ignored,
// and nil and empty byte fields are equal, as their JSON forms are.
// (reflect.DeepEqual would also compare the caches.)
func (o *Order) Equal(p *Order) bool {
	if o == nil || p == nil {
		return o == p
	}
	return o.ExchangeAddress == p.ExchangeAddress &&
		o.MakerAddress == p.MakerAddress &&
		o.TakerAddress == p.TakerAddress &&
		o.SenderAddress == p.SenderAddress &&
		o.FeeRecipientAddress == p.FeeRecipientAddress &&
		bytes.Equal(o.MakerAssetData, p.MakerAssetData) &&
		bytes.Equal(o.MakerFeeAssetData, p.MakerFeeAssetData) &&
		bytes.Equal(o.TakerAssetData, p.TakerAssetData) &&
		bytes.Equal(o.TakerFeeAssetData, p.TakerFeeAssetData) &&
		equalInt(o.ChainID, p.ChainID) &&
		equalInt(o.MakerAssetAmount, p.MakerAssetAmount) &&
		equalInt(o.MakerFee, p.MakerFee) &&
		equalInt(o.TakerAssetAmount, p.TakerAssetAmount) &&
		equalInt(o.TakerFee, p.TakerFee) &&
		equalInt(o.ExpirationTimeSeconds, p.ExpirationTimeSeconds) &&
		equalInt(o.Salt, p.Salt)
}

// Equal reports whether s and t have the same fields and signature, as
// Order.Equal compares them.
func (s *SignedOrder) Equal(t *SignedOrder) bool {
	if s == nil || t == nil {
		return s == t
	}
	return s.Order.Equal(&t.Order) && bytes.Equal(s.Signature, t.Signature)
}

func equalInt(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cmp(b) == 0
}
