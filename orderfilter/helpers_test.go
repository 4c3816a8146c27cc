package orderfilter

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ordersync/ordersync/zeroex"
)

// The chain and exchange of the public hash vector (docs/protocol.md).
const testChainID = 1337

var testExchange = common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48")

// testAssetData is ERC20 asset data (selector f47261b0) for a token address.
func testAssetData(token common.Address) []byte {
	return append(common.FromHex("0xf47261b0000000000000000000000000"), token.Bytes()...)
}

// testOrder is a realistic order of testChainID and testExchange, EthSign
// signed by a fresh maker key.
func testOrder(t testing.TB) *zeroex.SignedOrder {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	o, err := zeroex.SignOrder(key, &zeroex.Order{
		ChainID:               big.NewInt(testChainID),
		ExchangeAddress:       testExchange,
		MakerAddress:          crypto.PubkeyToAddress(key.PublicKey),
		MakerAssetData:        testAssetData(common.HexToAddress("0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c")),
		MakerAssetAmount:      new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil),
		MakerFee:              big.NewInt(0),
		TakerAssetData:        testAssetData(common.HexToAddress("0x0b1ba0af832d7c05fd64161e0db78e85978e8082")),
		TakerAssetAmount:      big.NewInt(2_000_000_000),
		TakerFee:              big.NewInt(0),
		ExpirationTimeSeconds: big.NewInt(1_900_000_000),
		Salt:                  new(big.Int).Lsh(big.NewInt(12345), 200),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	return o
}

// mustNew is New that fails the test on error.
func mustNew(t testing.TB, schema string) *Filter {
	t.Helper()
	f, err := New(testChainID, schema, testExchange)
	if err != nil {
		t.Fatalf("New(%s): %v", schema, err)
	}
	return f
}

// mustMatch asserts what MatchOrder and ValidateOrder say about o.
func mustMatch(t *testing.T, f *Filter, o *zeroex.SignedOrder, want bool) {
	t.Helper()
	got, err := f.MatchOrder(o)
	if err != nil {
		t.Fatalf("MatchOrder: %v", err)
	}
	if got != want {
		t.Fatalf("MatchOrder = %v, want %v (ValidateOrder: %v)", got, want, f.ValidateOrder(o))
	}
	verr := f.ValidateOrder(o)
	if (verr == nil) != want {
		t.Fatalf("ValidateOrder = %v, but MatchOrder = %v", verr, want)
	}
}

// mismatchOf returns ValidateOrder's *MismatchError for o, failing the test
// when the order matches or the error is of another kind.
func mismatchOf(t *testing.T, f *Filter, o *zeroex.SignedOrder) *MismatchError {
	t.Helper()
	err := f.ValidateOrder(o)
	m, ok := err.(*MismatchError)
	if !ok {
		t.Fatalf("ValidateOrder = %v (%T), want a *MismatchError", err, err)
	}
	return m
}
