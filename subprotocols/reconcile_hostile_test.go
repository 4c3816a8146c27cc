package subprotocols_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/internal/testnet"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
)

// reconcileAnswer is the part of a reconcile response these tests read.
type reconcileAnswer struct {
	Subprotocol string `json:"subprotocol"`
	Orders      []json.RawMessage
	Metadata    reconcile.ResponseMetadata `json:"metadata"`
}

// ask sends one reconcile request with the given metadata on a raw stream
// and reads the answer; it fails the test when the provider sends none.
func (w *wireStream) ask(metadata string) (*reconcileAnswer, int) {
	w.t.Helper()
	w.request([]string{v2}, metadata)
	line, err := w.lines.ReadBytes('\n')
	if err != nil {
		w.t.Fatalf("no answer to %s: %v", metadata, err)
	}
	var a reconcileAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		w.t.Fatalf("answer %.200s: %v", line, err)
	}
	return &a, len(line)
}

// A first request claiming the largest held count (or any from about
// 6.15·10¹⁸) once made the provider compute a negative symbol count and
// panic slicing its symbols, killing the process. Every such claim gets a
// sketch within the bounds, and the provider goes on serving.
func TestReconcileHeldOverflow(t *testing.T) {
	orders := testOrders(1000)
	hosts := testnet.New(t, 2)
	startNode(t, hosts[0], orders, nil, all3)
	for _, held := range []int64{math.MaxInt64, math.MaxInt64 / 3 * 2, 6_150_000_000_000_000_000, math.MaxInt64 - 1000} {
		w := openWireStream(t, hosts[1], hosts[0].ID())
		a, _ := w.ask(fmt.Sprintf(`{"op":"sketch","orderfilter":null,"held":%d}`, held))
		n := len(a.Metadata.Symbols) / riblt.SymbolSize
		if a.Metadata.Op != reconcile.OpSketch || n == 0 || n > reconcile.MaxSymbolsPerResponse {
			t.Fatalf("held %d: answer %s with %d symbols", held, a.Metadata.Op, n)
		}
		_ = w.stream.Close()
	}
	// Symbols asked for at the very end of the range, with a count that
	// would wrap: none past MaxSymbols.
	w := openWireStream(t, hosts[1], hosts[0].ID())
	first, _ := w.ask(`{"op":"sketch","orderfilter":null,"held":990}`)
	a, _ := w.ask(fmt.Sprintf(`{"op":"sketch","orderfilter":null,"snapshot":%d,"from":%d,"count":%d}`,
		first.Metadata.Snapshot, reconcile.MaxSymbols, int64(math.MaxInt64)))
	if n := len(a.Metadata.Symbols) / riblt.SymbolSize; n != 0 {
		t.Fatalf("%d symbols past the last index", n)
	}
	// The provider still serves an honest requester.
	requester := startNode(t, testnet.New(t, 1)[0], orders[:900], nil, all3)
	testnet.Connect(t, requester.host, hosts[0])
	requester.getOrders(t, 1)
	sameOrders(t, requester.store, orders)
}

// Response metadata whose From+len(symbols) wraps past the largest int is
// refused as out of range, not passed on to the requester's decoder.
func TestReconcileResponseFromOverflow(t *testing.T) {
	sub := reconcile.New(memoryWith(t, nil), nil)
	syms := make([]byte, 2*riblt.SymbolSize)
	raw, _ := json.Marshal(map[string]any{"op": "sketch", "snapshot": 1, "total": 5, "from": int64(math.MaxInt64), "symbols": syms})
	if _, err := sub.ParseResponseMetadata(raw); err == nil {
		t.Fatalf("metadata %s parsed", raw)
	}
}

// A provider that delivers real orders with a broken signature cannot hide
// them: the requester remembers those rejections for that provider only,
// and fetches the orders from an honest provider, whichever it syncs with
// first. (Remembered for every provider, they once made the requester
// count them as held with the honest one too: with the hostile provider
// synced first, it ended with 1 960 of 2 000 orders.)
func TestReconcileSpoiledCopiesDoNotHideOrders(t *testing.T) {
	orders := testOrders(2000)
	for _, tc := range []struct {
		name         string
		held         int
		hostileFirst bool
	}{{"hostile first", 1960, true}, {"honest first", 1960, false}, {"empty, hostile first", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 3, testnet.WithoutConnecting())
			hostile, honest := hosts[0], hosts[1]
			startReconcileProvider(t, hostile, memoryWith(t, orders), func(s ordersync.Subprotocol) ordersync.Subprotocol {
				return &tamperer{Subprotocol: s, badSignatureEvery: 1}
			})
			startNode(t, honest, orders, nil, all3)
			oneRound := ordersync.WithBackoffFactory(func() backoff.BackOff { return &backoff.StopBackOff{} })
			requester := startNodeWith(t, hosts[2], orders[:tc.held], nil, all3, []ordersync.Option{oneRound})
			first, second := hostile, honest
			if !tc.hostileFirst {
				first, second = honest, hostile
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			testnet.Connect(t, requester.host, first)
			err := requester.service.GetOrders(ctx, 1)
			if tc.hostileFirst == (err == nil) {
				t.Fatalf("first round, with the %s provider alone: %v", map[bool]string{true: "hostile", false: "honest"}[tc.hostileFirst], err)
			}
			if tc.hostileFirst {
				// Its copies rejected, the hostile provider is not one
				// the requester is in sync with in the next round either.
				if err := requester.service.GetOrders(ctx, 1); err == nil {
					t.Fatalf("second round with the hostile provider alone synced: %+v", requester.service.Stats().Providers[hostile.ID()])
				}
			}
			testnet.Connect(t, requester.host, second)
			_ = requester.service.GetOrders(ctx, 2) // the hostile provider may fail
			sameOrders(t, requester.store, orders)
		})
	}
}
