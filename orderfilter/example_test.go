package orderfilter_test

import (
	"encoding/json"
	"fmt"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
)

// A requester that only wants orders selling one token sends this filter;
// the provider parses it from the request and applies it to its orders.
func Example() {
	token := ordergen.Tokens[0]
	schema := fmt.Sprintf(`{"properties":{"makerAssetData":{"const":"0x%x"}}}`, ordergen.ERC20AssetData(token))
	mine, err := orderfilter.New(ordergen.DefaultChainID, schema, ordergen.DefaultExchange)
	if err != nil {
		panic(err)
	}
	wire, _ := json.Marshal(mine)

	// On the provider.
	theirs, err := orderfilter.Parse(wire)
	if err != nil {
		panic(err)
	}
	matched := 0
	for _, o := range ordergen.Generate(ordergen.Options{Seed: 1, Count: 100}) {
		ok, err := theirs.MatchOrder(o)
		if err != nil {
			panic(err)
		}
		if ok {
			matched++
		}
	}
	fmt.Println(matched > 0 && matched < 100)
	// Output: true
}

// ValidateOrder says which check an order failed.
func ExampleFilter_ValidateOrder() {
	f, err := orderfilter.New(ordergen.DefaultChainID, `{"properties":{"takerFee":{"enum":["1","2"]}}}`, ordergen.DefaultExchange)
	if err != nil {
		panic(err)
	}
	o := ordergen.Generate(ordergen.Options{Seed: 1, Count: 1})[0]
	err = f.ValidateOrder(o)
	if m, ok := err.(*orderfilter.MismatchError); ok {
		fmt.Println(m.Rule, m.Keyword, m.InstancePointer)
	}
	// Output: customOrderSchema enum /takerFee
}
