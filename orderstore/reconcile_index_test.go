package orderstore

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/zeroex"
)

// TestReconcileIndexAllAcrossClasses checks SnapshotAll against an index of
// every hash built apart, while the orders are of one class (when the index
// keeps no separate set of all), once a second class and an unclassed
// order arrive, and as orders leave again.
func TestReconcileIndexAllAcrossClasses(t *testing.T) {
	orders := testOrders(0, 40)
	for _, o := range orders[20:30] {
		o.ExchangeAddress = common.HexToAddress("0x61935cbdd02287b511119ddb11aeb42f1593b7ef")
		o.ResetHash()
	}
	for _, o := range orders[30:32] {
		o.ChainID = new(big.Int).Lsh(big.NewInt(1), 70) // no class
		o.ResetHash()
	}
	ix := NewReconcileIndex(64)
	held := map[common.Hash]*zeroex.SignedOrder{}
	check := func(step string) {
		t.Helper()
		want := riblt.NewIndex(64)
		for h := range held {
			x := riblt.Item(h)
			l := riblt.LanesOf(&x)
			want.Add(&x, &l)
		}
		got := ix.SnapshotAll(64)
		if got.Count != want.Len() || got.Digest.d != want.Digest() {
			t.Fatalf("%s: SnapshotAll counts %d, digest equal %v; want %d", step, got.Count, got.Digest.d == want.Digest(), want.Len())
		}
		for i, s := range want.AppendPrefix(nil, 64) {
			if Symbol(s) != got.Symbols[i] {
				t.Fatalf("%s: symbol %d differs", step, i)
			}
		}
	}
	add := func(step string, os []*zeroex.SignedOrder) {
		for _, o := range os {
			h := mustHash(t, o)
			lanes := LanesOf(h)
			ix.Add(h, o, &lanes)
			held[h] = o
		}
		check(step)
	}
	remove := func(step string, os []*zeroex.SignedOrder) {
		for _, o := range os {
			h := mustHash(t, o)
			lanes := LanesOf(h)
			ix.Remove(h, o, &lanes)
			delete(held, h)
		}
		check(step)
	}
	check("empty")
	add("one class", orders[:20])
	remove("one class, some left", orders[:5])
	add("two classes", orders[20:30])
	add("unclassed too", orders[30:32])
	add("more of the first", orders[32:])
	remove("the second class gone", orders[20:30])
	remove("all gone", append(append(orders[5:20:20], orders[30:32]...), orders[32:]...))
}
