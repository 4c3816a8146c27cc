package zeroex_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ordersync/ordersync/zeroex"
)

// A maker signs an order, a peer receives its JSON, decodes it and checks
// the signature before storing it.
func Example() {
	key, err := crypto.HexToECDSA("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")
	if err != nil {
		panic(err)
	}
	token := func(addr string) []byte { // ERC-20 asset data
		return append(common.FromHex("0xf47261b0"), common.LeftPadBytes(common.FromHex(addr), 32)...)
	}
	// The fields of the package's hash test vector (0x's), whose hash
	// is printed below. Its exchange is the Ganache snapshot's ERC-20 proxy, not the
	// chain's Exchange: an order a node shares is signed for
	// zeroex.ExchangeAddress(1337) instead, or no default filter of the
	// chain matches it.
	order := &zeroex.Order{
		ChainID:               big.NewInt(1337),
		ExchangeAddress:       common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48"),
		MakerAddress:          crypto.PubkeyToAddress(key.PublicKey),
		MakerAssetData:        token("0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c"),
		MakerFeeAssetData:     []byte{},
		MakerAssetAmount:      big.NewInt(1000),
		MakerFee:              big.NewInt(0),
		TakerAssetData:        token("0x0b1ba0af832d7c05fd64161e0db78e85978e8082"),
		TakerFeeAssetData:     []byte{},
		TakerAssetAmount:      big.NewInt(2000),
		TakerFee:              big.NewInt(0),
		ExpirationTimeSeconds: big.NewInt(4102444800),
		Salt:                  big.NewInt(42),
	}
	signed, err := zeroex.SignOrder(key, order)
	if err != nil {
		panic(err)
	}

	// On the wire.
	wire, err := json.Marshal(signed)
	if err != nil {
		panic(err)
	}

	// At the receiving peer.
	var received zeroex.SignedOrder
	if err := json.Unmarshal(wire, &received); err != nil {
		panic(err)
	}
	fmt.Println("round trip equal:", received.Equal(signed))
	fmt.Println("signature:", received.VerifySignature())
	hash, _ := received.ComputeOrderHash()
	fmt.Println("hash:", hash.Hex())

	// A forged amount no longer matches the maker's signature.
	received.TakerAssetAmount = big.NewInt(1)
	received.ResetHash()
	fmt.Println("forged:", errors.Is(received.VerifySignature(), zeroex.ErrWrongSigner))

	// Output:
	// round trip equal: true
	// signature: <nil>
	// hash: 0x1700e6dec1d3f92c296bd975ef88c34bdea579775e64c5c1318d8fade29ab1bb
	// forged: true
}
