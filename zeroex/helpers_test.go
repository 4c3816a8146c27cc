package zeroex

import (
	"crypto/ecdsa"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

var testExchange = common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48")

// vectorOrder is the public hash vector's order (docs/protocol.md).
func vectorOrder() *Order {
	zero20 := make([]byte, 20)
	return &Order{
		ChainID:               big.NewInt(1337),
		ExchangeAddress:       testExchange,
		MakerAssetData:        zero20,
		MakerFeeAssetData:     zero20,
		TakerAssetData:        zero20,
		TakerFeeAssetData:     zero20,
		MakerAssetAmount:      new(big.Int),
		MakerFee:              new(big.Int),
		TakerAssetAmount:      new(big.Int),
		TakerFee:              new(big.Int),
		ExpirationTimeSeconds: new(big.Int),
		Salt:                  new(big.Int),
	}
}

// randomUint256 returns a value of a random bit length up to 256, so that
// small, large and extreme values all occur.
func randomUint256(r *rand.Rand) *big.Int {
	n := r.Intn(257)
	if n == 0 {
		return new(big.Int)
	}
	b := make([]byte, 32)
	r.Read(b)
	x := new(big.Int).SetBytes(b)
	return x.Rsh(x, uint(256-n))
}

func randomAddress(r *rand.Rand) (a common.Address) {
	r.Read(a[:])
	return a
}

func randomBytes(r *rand.Rand) []byte {
	b := make([]byte, r.Intn(80))
	r.Read(b)
	return b
}

// randomOrder returns an order whose fields all come from r.
func randomOrder(r *rand.Rand) *Order {
	return &Order{
		ChainID:               randomUint256(r),
		ExchangeAddress:       randomAddress(r),
		MakerAddress:          randomAddress(r),
		MakerAssetData:        randomBytes(r),
		MakerFeeAssetData:     randomBytes(r),
		MakerAssetAmount:      randomUint256(r),
		MakerFee:              randomUint256(r),
		TakerAddress:          randomAddress(r),
		TakerAssetData:        randomBytes(r),
		TakerFeeAssetData:     randomBytes(r),
		TakerAssetAmount:      randomUint256(r),
		TakerFee:              randomUint256(r),
		SenderAddress:         randomAddress(r),
		FeeRecipientAddress:   randomAddress(r),
		ExpirationTimeSeconds: randomUint256(r),
		Salt:                  randomUint256(r),
	}
}

// testKey returns a deterministic private key.
func testKey(t testing.TB, i int) *ecdsa.PrivateKey {
	t.Helper()
	seed := crypto.Keccak256([]byte{byte(i), byte(i >> 8), 'k', 'e', 'y'})
	key, err := crypto.ToECDSA(seed)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// signedTestOrder returns a random order made by key's address and signed.
func signedTestOrder(t testing.TB, r *rand.Rand, key *ecdsa.PrivateKey) *SignedOrder {
	t.Helper()
	o := randomOrder(r)
	o.MakerAddress = crypto.PubkeyToAddress(key.PublicKey)
	s, err := SignOrder(key, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var bigOne = big.NewInt(1)

type bigInt = big.Int

func addressOf(key *ecdsa.PrivateKey) common.Address {
	return crypto.PubkeyToAddress(key.PublicKey)
}
