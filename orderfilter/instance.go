package orderfilter

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// zeroAddressHex is the JSON form of the zero address, which most orders
// carry several times (taker, sender, fee recipient); sharing it saves an
// allocation each.
const zeroAddressHex = "0x0000000000000000000000000000000000000000"

// instance builds the value the schema engine validates: the order's JSON
// (the signed order's wire JSON) as json.Unmarshal with UseNumber would decode it,
// built straight from the typed fields, with no encode/decode round trip.
// The caller has checked malformedField, chainId and exchangeAddress, so the
// filter's own strings stand in for those two.
func (f *Filter) instance(o *zeroex.SignedOrder) map[string]any {
	return map[string]any{
		"chainId":               f.chainIDNumber,
		"exchangeAddress":       f.exchangeHex,
		"makerAddress":          addressHex(o.MakerAddress),
		"makerAssetData":        bytesHex(o.MakerAssetData),
		"makerFeeAssetData":     bytesHex(o.MakerFeeAssetData),
		"makerAssetAmount":      decimal(o.MakerAssetAmount),
		"makerFee":              decimal(o.MakerFee),
		"takerAddress":          addressHex(o.TakerAddress),
		"takerAssetData":        bytesHex(o.TakerAssetData),
		"takerFeeAssetData":     bytesHex(o.TakerFeeAssetData),
		"takerAssetAmount":      decimal(o.TakerAssetAmount),
		"takerFee":              decimal(o.TakerFee),
		"senderAddress":         addressHex(o.SenderAddress),
		"feeRecipientAddress":   addressHex(o.FeeRecipientAddress),
		"expirationTimeSeconds": decimal(o.ExpirationTimeSeconds),
		"salt":                  decimal(o.Salt),
		"signature":             bytesHex(o.Signature),
	}
}

// addressHex is a's JSON form: lowercase, not EIP-55 (which would also cost
// a keccak256 per address).
func addressHex(a common.Address) string {
	if a == (common.Address{}) {
		return zeroAddressHex
	}
	var buf [2 + 2*common.AddressLength]byte
	buf[0], buf[1] = '0', 'x'
	hex.Encode(buf[2:], a[:])
	return string(buf[:])
}

// bytesHex is b's JSON form; empty bytes are "0x".
func bytesHex(b []byte) string {
	if len(b) == 0 {
		return "0x"
	}
	buf := make([]byte, 2+2*len(b))
	buf[0], buf[1] = '0', 'x'
	hex.Encode(buf[2:], b)
	return string(buf)
}

// decimal is n's JSON form, a decimal string. Small values, the common case
// for fees and many amounts, skip big.Int's general formatting.
func decimal(n *big.Int) string {
	if n.IsUint64() {
		return strconv.FormatUint(n.Uint64(), 10)
	}
	return n.Text(10)
}

// chainIDNumber is a chain ID as the engine sees a JSON number.
func chainIDNumber(id int) json.Number {
	return json.Number(strconv.Itoa(id))
}
