package orderfilter

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// The schema must see exactly the JSON the network exchanges: the value
// built from the typed fields equals zeroex's JSON of the same order, as
// the engine would decode it.
func TestInstanceIsTheOrdersWireJSON(t *testing.T) {
	orders := ordergen.Generate(ordergen.Options{Seed: 3, Count: 20, Exchange: testExchange})
	orders = append(orders, ordergen.Generate(ordergen.Options{Seed: 4, Count: 5, Exchange: testExchange, SignatureType: zeroex.SignatureTypeEIP712})...)
	edge := testOrder(t)
	edge.MakerAddress = common.HexToAddress("0xABCDEF0000000000000000000000000000000001")
	edge.MakerFee = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	edge.MakerFeeAssetData = []byte{}
	edge.TakerAssetAmount = big.NewInt(0)
	edge.ResetHash()
	orders = append(orders, edge)

	f := mustNew(t, "{}")
	for i, o := range orders {
		wire, err := o.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(wire))
		dec.UseNumber()
		var want map[string]any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := f.instance(o); !reflect.DeepEqual(got, want) {
			t.Fatalf("order %d:\n got %v\nwant %v", i, got, want)
		}
	}
}
