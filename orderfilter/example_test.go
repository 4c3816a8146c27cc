package orderfilter_test

import (
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/zeroex"
)

// The chain and exchange of the examples' orders: 0x's Ganache snapshot
// and its 0x v3 Exchange, the contract orders of that chain are signed for.
const chainID = 1337

var exchange = mustExchange(chainID)

func mustExchange(chainID int) common.Address {
	a, err := zeroex.ExchangeAddress(chainID)
	if err != nil {
		panic(err)
	}
	return a
}

// erc20 is the asset data of an ERC-20 token.
func erc20(token string) []byte {
	return append(common.FromHex("0xf47261b0"), common.LeftPadBytes(common.FromHex(token), 32)...)
}

// order is a signed order for exchange selling 1000 of token for 2000 of
// another, with the given taker fee.
func order(token string, takerFee int64) *zeroex.SignedOrder {
	return orderFor(exchange, token, takerFee)
}

// orderFor is order, signed for the given exchange contract.
func orderFor(exchange common.Address, token string, takerFee int64) *zeroex.SignedOrder {
	key, err := crypto.HexToECDSA("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")
	if err != nil {
		panic(err)
	}
	signed, err := zeroex.SignOrder(key, &zeroex.Order{
		ChainID:               big.NewInt(chainID),
		ExchangeAddress:       exchange,
		MakerAddress:          crypto.PubkeyToAddress(key.PublicKey),
		MakerAssetData:        erc20(token),
		MakerFeeAssetData:     []byte{},
		MakerAssetAmount:      big.NewInt(1000),
		MakerFee:              big.NewInt(0),
		TakerAssetData:        erc20("0x0b1ba0af832d7c05fd64161e0db78e85978e8082"),
		TakerFeeAssetData:     []byte{},
		TakerAssetAmount:      big.NewInt(2000),
		TakerFee:              big.NewInt(takerFee),
		ExpirationTimeSeconds: big.NewInt(4102444800),
		Salt:                  big.NewInt(1),
	})
	if err != nil {
		panic(err)
	}
	return signed
}

// A requester that only wants orders selling one token sends this filter;
// the provider parses it from the request and applies it to its orders.
func Example() {
	const wanted = "0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c"
	schema := fmt.Sprintf(`{"properties":{"makerAssetData":{"const":"0x%x"}}}`, erc20(wanted))
	mine, err := orderfilter.New(chainID, schema, exchange)
	if err != nil {
		panic(err)
	}
	wire, _ := json.Marshal(mine)

	// On the provider.
	theirs, err := orderfilter.Parse(wire)
	if err != nil {
		panic(err)
	}
	for _, o := range []*zeroex.SignedOrder{order(wanted, 0), order("0x5409ed021d9299bf6814279a6a1411a7e866a631", 0)} {
		ok, err := theirs.MatchOrder(o)
		if err != nil {
			panic(err)
		}
		fmt.Printf("0x%x: %v\n", o.MakerAssetData[16:], ok)
	}
	// Output:
	// 0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c: true
	// 0x5409ed021d9299bf6814279a6a1411a7e866a631: false
}

// ValidateOrder says which check an order failed.
func ExampleFilter_ValidateOrder() {
	f, err := orderfilter.New(chainID, `{"properties":{"takerFee":{"enum":["1","2"]}}}`, exchange)
	if err != nil {
		panic(err)
	}
	err = f.ValidateOrder(order("0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c", 3))
	if m, ok := err.(*orderfilter.MismatchError); ok {
		fmt.Println(m.Rule, m.Keyword, m.InstancePointer)
	}
	// Output: customOrderSchema enum /takerFee
}

// A node that is told nothing else keeps the orders of its chain's 0x
// Exchange. An order signed for another contract of the chain, such as the
// Ganache snapshot's ERC-20 proxy, is not one of them.
func ExampleNewDefaultForChain() {
	f, err := orderfilter.NewDefaultForChain(chainID)
	if err != nil {
		panic(err)
	}
	const token = "0x871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c"
	erc20Proxy := common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48")
	for _, o := range []*zeroex.SignedOrder{order(token, 0), orderFor(erc20Proxy, token, 0)} {
		ok, err := f.MatchOrder(o)
		if err != nil {
			panic(err)
		}
		fmt.Printf("0x%x: %v\n", o.ExchangeAddress.Bytes(), ok)
	}
	// Output:
	// 0x48bacb9266a570d521063ef5dd96e61686dbe788: true
	// 0x1dc4c1cefef38a777b15aa20260a54e584b16c48: false
}
