package orderfilter

import (
	"math/big"
	"math/bits"

	"github.com/ordersync/ordersync/zeroex"
)

// builtinBase is the base URL of the built-in schemas. A custom schema is
// compiled at builtinBase+"customOrderSchema", so "/address" in a custom
// schema resolves to builtinBase+"address". The scheme is our own so that no
// loader could ever fetch it.
const builtinBase = "ordersync-builtin:///"

// customSchemaURL is where the custom schema is compiled.
const customSchemaURL = builtinBase + "customOrderSchema"

// builtinSchemas are the schemas a custom schema may $ref, by path. They
// describe an order's JSON as the wire fixes it (docs/protocol.md).
var builtinSchemas = map[string]string{
	"address": `{"type":"string","pattern":"` + addressPattern + `"}`,
	// 2^256-1 has 78 digits; the exact bound is a native check.
	"wholeNumber": `{"type":"string","pattern":"` + wholeNumberPattern + `"}`,
	"hex":         `{"type":"string","pattern":"` + hexPattern + `"}`,
	"order": `{
		"type": "object",
		"required": ["chainId", "exchangeAddress", "makerAddress", "makerAssetData",
			"makerFeeAssetData", "makerAssetAmount", "makerFee", "takerAddress",
			"takerAssetData", "takerFeeAssetData", "takerAssetAmount", "takerFee",
			"senderAddress", "feeRecipientAddress", "expirationTimeSeconds", "salt"],
		"properties": {
			"chainId": {"type": "integer", "minimum": 0},
			"exchangeAddress": {"$ref": "/address"},
			"makerAddress": {"$ref": "/address"},
			"makerAssetData": {"$ref": "/hex"},
			"makerFeeAssetData": {"$ref": "/hex"},
			"makerAssetAmount": {"$ref": "/wholeNumber"},
			"makerFee": {"$ref": "/wholeNumber"},
			"takerAddress": {"$ref": "/address"},
			"takerAssetData": {"$ref": "/hex"},
			"takerFeeAssetData": {"$ref": "/hex"},
			"takerAssetAmount": {"$ref": "/wholeNumber"},
			"takerFee": {"$ref": "/wholeNumber"},
			"senderAddress": {"$ref": "/address"},
			"feeRecipientAddress": {"$ref": "/address"},
			"expirationTimeSeconds": {"$ref": "/wholeNumber"},
			"salt": {"$ref": "/wholeNumber"}
		}
	}`,
	"signedOrder": `{
		"allOf": [{"$ref": "/order"}],
		"required": ["signature"],
		"properties": {"signature": {"$ref": "/hex"}}
	}`,
}

// maxUint256Bits bounds every integer of an order: they are uint256 on chain.
const maxUint256Bits = 256

// malformedField returns the JSON name of the first field of o that is
// missing or out of range, and why; "" when every field is well formed.
// Addresses and byte fields cannot be malformed in their typed form (nil
// bytes are "0x"), so only the integers need a look.
func malformedField(o *zeroex.SignedOrder) (field, reason string) {
	ints := [...]struct {
		name string
		v    *big.Int
	}{
		{"chainId", o.ChainID},
		{"makerAssetAmount", o.MakerAssetAmount},
		{"makerFee", o.MakerFee},
		{"takerAssetAmount", o.TakerAssetAmount},
		{"takerFee", o.TakerFee},
		{"expirationTimeSeconds", o.ExpirationTimeSeconds},
		{"salt", o.Salt},
	}
	for _, f := range ints {
		switch {
		case f.v == nil:
			return f.name, "missing"
		case f.v.Sign() < 0:
			return f.name, "negative"
		case len(f.v.Bits()) > maxUint256Bits/bits.UintSize:
			// The word count (normalized) decides without reading the
			// words: a provider runs this on every order it serves.
			return f.name, "above 2^256-1"
		}
	}
	return "", ""
}
