package zeroex

import (
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// eip712Types are the 0x v3 types in go-ethereum's typed-data form: an
// independent encoder of the protocol's type string.
var eip712Types = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"},
		{Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"},
		{Name: "verifyingContract", Type: "address"},
	},
	"Order": {
		{Name: "makerAddress", Type: "address"},
		{Name: "takerAddress", Type: "address"},
		{Name: "feeRecipientAddress", Type: "address"},
		{Name: "senderAddress", Type: "address"},
		{Name: "makerAssetAmount", Type: "uint256"},
		{Name: "takerAssetAmount", Type: "uint256"},
		{Name: "makerFee", Type: "uint256"},
		{Name: "takerFee", Type: "uint256"},
		{Name: "expirationTimeSeconds", Type: "uint256"},
		{Name: "salt", Type: "uint256"},
		{Name: "makerAssetData", Type: "bytes"},
		{Name: "takerAssetData", Type: "bytes"},
		{Name: "makerFeeAssetData", Type: "bytes"},
		{Name: "takerFeeAssetData", Type: "bytes"},
	},
}

// goEthereumHash hashes o with go-ethereum's generic EIP-712 code.
func goEthereumHash(t *testing.T, o *Order) common.Hash {
	t.Helper()
	td := apitypes.TypedData{
		Types:       eip712Types,
		PrimaryType: "Order",
		Domain: apitypes.TypedDataDomain{
			Name:              "0x Protocol",
			Version:           "3.0.0",
			ChainId:           (*math.HexOrDecimal256)(o.ChainID),
			VerifyingContract: o.ExchangeAddress.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"makerAddress":          o.MakerAddress.Hex(),
			"takerAddress":          o.TakerAddress.Hex(),
			"feeRecipientAddress":   o.FeeRecipientAddress.Hex(),
			"senderAddress":         o.SenderAddress.Hex(),
			"makerAssetAmount":      o.MakerAssetAmount.String(),
			"takerAssetAmount":      o.TakerAssetAmount.String(),
			"makerFee":              o.MakerFee.String(),
			"takerFee":              o.TakerFee.String(),
			"expirationTimeSeconds": o.ExpirationTimeSeconds.String(),
			"salt":                  o.Salt.String(),
			"makerAssetData":        hexutil.Encode(o.MakerAssetData),
			"takerAssetData":        hexutil.Encode(o.TakerAssetData),
			"makerFeeAssetData":     hexutil.Encode(o.MakerFeeAssetData),
			"takerFeeAssetData":     hexutil.Encode(o.TakerFeeAssetData),
		},
	}
	h, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	return common.BytesToHash(h)
}

func TestComputeOrderHashMatchesGoEthereum(t *testing.T) {
	if got, want := goEthereumHash(t, vectorOrder()), common.HexToHash("0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714"); got != want {
		t.Fatalf("test bug: go-ethereum gives %s for the public vector", got.Hex())
	}
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 300; i++ {
		o := randomOrder(r)
		if i%3 == 0 { // a few domains over and over, as on a real network
			o.ChainID.SetInt64(int64(1 + i%5))
		}
		got, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		if want := goEthereumHash(t, o); got != want {
			t.Fatalf("order %d: hash %s, go-ethereum says %s", i, got.Hex(), want.Hex())
		}
	}
}
