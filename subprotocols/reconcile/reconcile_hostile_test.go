package reconcile_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// reconcileAnswer is the part of a reconcile response these tests read.
type reconcileAnswer struct {
	Subprotocol string `json:"subprotocol"`
	Orders      []json.RawMessage
	Metadata    reconcile.ResponseMetadata `json:"metadata"`
}

// ask sends one reconcile request with the given metadata on a raw stream
// and reads the answer; it fails the test when the provider sends none.
func ask(t testing.TB, w *nodetest.WireStream, metadata string) (*reconcileAnswer, int) {
	t.Helper()
	w.Request([]string{v2}, metadata)
	line, err := w.ReadLine()
	if err != nil {
		t.Fatalf("no answer to %s: %v", metadata, err)
	}
	var a reconcileAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatalf("answer %.200s: %v", line, err)
	}
	return &a, len(line)
}

// A first request claiming the largest held count (or any from about
// 6.15·10¹⁸) once made the provider compute a negative symbol count and
// panic slicing its symbols, killing the process. Every such claim gets a
// sketch within the bounds, and the provider goes on serving.
func TestReconcileHeldOverflow(t *testing.T) {
	orders := nodetest.Orders(1000)
	hosts := testnet.New(t, 2)
	nodetest.StartNode(t, hosts[0], orders, nil, all3)
	for _, held := range []int64{math.MaxInt64, math.MaxInt64 / 3 * 2, 6_150_000_000_000_000_000, math.MaxInt64 - 1000} {
		w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
		a, _ := ask(t, w, fmt.Sprintf(`{"op":"sketch","orderfilter":null,"held":%d}`, held))
		n := len(a.Metadata.Symbols) / riblt.SymbolSize
		if a.Metadata.Op != reconcile.OpSketch || n == 0 || n > reconcile.MaxSymbolsPerResponse {
			t.Fatalf("held %d: answer %s with %d symbols", held, a.Metadata.Op, n)
		}
		_ = w.Stream.Close()
	}
	// Symbols asked for at the very end of the range, with a count that
	// would wrap: none past MaxSymbols.
	w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
	first, _ := ask(t, w, `{"op":"sketch","orderfilter":null,"held":990}`)
	a, _ := ask(t, w, fmt.Sprintf(`{"op":"sketch","orderfilter":null,"snapshot":%d,"from":%d,"count":%d}`,
		first.Metadata.Snapshot, reconcile.MaxSymbols, int64(math.MaxInt64)))
	if n := len(a.Metadata.Symbols) / riblt.SymbolSize; n != 0 {
		t.Fatalf("%d symbols past the last index", n)
	}
	// The provider still serves an honest requester.
	requester := nodetest.StartNode(t, testnet.New(t, 1)[0], orders[:900], nil, all3)
	testnet.Connect(t, requester.Host, hosts[0])
	requester.GetOrders(t, 1)
	nodetest.SameOrders(t, requester.Store, orders)
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
	orders := nodetest.Orders(2000)
	for _, tc := range []struct {
		name         string
		held         int
		hostileFirst bool
	}{{"hostile first", 1960, true}, {"honest first", 1960, false}, {"empty, hostile first", 0, true}} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := testnet.New(t, 3, testnet.WithoutConnecting())
			hostile, honest := hosts[0], hosts[1]
			startReconcileProvider(t, hostile, memoryWith(t, orders), func(s ordersync.Subprotocol) ordersync.Subprotocol {
				return &nodetest.Tamperer{Subprotocol: s, BadSignatureEvery: 1}
			})
			nodetest.StartNode(t, honest, orders, nil, all3)
			oneRound := ordersync.WithBackoffFactory(func() backoff.BackOff { return &backoff.StopBackOff{} })
			requester := nodetest.StartNodeWith(t, hosts[2], orders[:tc.held], nil, all3, []ordersync.Option{oneRound})
			first, second := hostile, honest
			if !tc.hostileFirst {
				first, second = honest, hostile
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			testnet.Connect(t, requester.Host, first)
			err := requester.Service.GetOrders(ctx, 1)
			if tc.hostileFirst == (err == nil) {
				t.Fatalf("first round, with the %s provider alone: %v", map[bool]string{true: "hostile", false: "honest"}[tc.hostileFirst], err)
			}
			if tc.hostileFirst {
				// Its copies rejected, the hostile provider is not one
				// the requester is in sync with in the next round either.
				if err := requester.Service.GetOrders(ctx, 1); err == nil {
					t.Fatalf("second round with the hostile provider alone synced: %+v", requester.Service.Stats().Providers[hostile.ID()])
				}
			}
			testnet.Connect(t, requester.Host, second)
			_ = requester.Service.GetOrders(ctx, 2) // the hostile provider may fail
			nodetest.SameOrders(t, requester.Store, orders)
		})
	}
}

// amplification sends sketch requests claiming 2^40 held orders to
// a provider of orders for d, each as soon as the last is answered, on one
// stream (a new one when the provider's page cap ends it), and returns the bytes written and read and the time taken.
func amplification(t *testing.T, provider host.Host, from host.Host, d time.Duration) (in, out int64, took time.Duration) {
	return amplificationOf(t, `{"op":"sketch","orderfilter":null,"held":1099511627776}`, provider, from, d)
}

// amplificationOf is amplification with requests of the given metadata.
func amplificationOf(t *testing.T, metadata string, provider host.Host, from host.Host, d time.Duration) (in, out int64, took time.Duration) {
	t.Helper()
	w := nodetest.OpenWireStream(t, from, provider.ID())
	start := time.Now()
	for time.Since(start) < d {
		msg := `{"type":"Request","subprotocols":["` + v2 + `"],"metadata":` + metadata + `}` + "\n"
		if _, err := w.Stream.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		line, err := w.ReadLine()
		if err == io.EOF && len(line) == 0 {
			// The provider's page cap per stream: on to a new one.
			w = nodetest.OpenWireStream(t, from, provider.ID())
			continue
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", out, err)
		}
		in += int64(len(msg))
		out += int64(len(line))
	}
	return in, out, time.Since(start)
}

// Sketch answers to one requester are held to its answer budget however
// it asks: bytes of symbols out at most the burst plus the rate times the
// time taken (the limiter's promise; no timing is asserted), and a claim of
// more held orders than anyone has draws no more symbols than the
// provider's own set needs.
func TestReconcileAnswerBudget(t *testing.T) {
	orders := nodetest.Orders(2000)
	hosts := testnet.New(t, 4)
	const rateBytes, burst = 64 << 10, 128 << 10
	nodetest.StartService(t, ordersync.NewHostNode(hosts[0]), []ordersync.Subprotocol{
		reconcile.New(memoryWith(t, orders), nil, reconcile.WithAnswerRate(rateBytes, burst))})
	w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
	a, _ := ask(t, w, `{"op":"sketch","orderfilter":null,"held":9223372036854775807}`)
	if n := len(a.Metadata.Symbols) / riblt.SymbolSize; n > 12+len(orders)*3/2 {
		t.Errorf("a claim of the largest held count drew %d symbols for a set of %d", n, len(orders))
	}
	_ = w.Stream.Close()
	// A claim far below the provider's set is a first sync: a page, as
	// version 1 would send, not a sketch.
	w = nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
	if a, _ := ask(t, w, `{"op":"sketch","orderfilter":null,"held":150}`); a.Metadata.Op != reconcile.OpPage || len(a.Orders) == 0 {
		t.Errorf("held 150 of %d: answered %q with %d orders, want a page", len(orders), a.Metadata.Op, len(a.Orders))
	}
	_ = w.Stream.Close()

	// A list answer lists the set, ascending, within the budget too.
	w = nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
	if a, _ := ask(t, w, `{"op":"sketch","orderfilter":null,"list":true}`); a.Metadata.Op != reconcile.OpList ||
		len(a.Metadata.Hashes) == 0 || len(a.Metadata.Hashes) > 32*len(orders) {
		t.Errorf("a list request: answered %q with %d bytes of hashes", a.Metadata.Op, len(a.Metadata.Hashes))
	}
	_ = w.Stream.Close()

	for i, metadata := range []string{
		`{"op":"sketch","orderfilter":null,"held":1099511627776}`,
		`{"op":"sketch","orderfilter":null,"list":true}`,
	} {
		from := hosts[2+i] // a fresh requester: a budget of its own
		in, out, took := amplificationOf(t, metadata, hosts[0], from, time.Second)
		if limit := burst + int64(took.Seconds()*rateBytes); out > limit {
			t.Errorf("%s: %d bytes out in %v, over the budget's %d", metadata, out, took, limit)
		}
		t.Logf("%s: %d bytes in, %d out (x%.1f) in %v", metadata, in, out, float64(out)/float64(in), took)
	}
}

// A fetch naming one hash many times gets its order once.
func TestReconcileFetchDeduplicates(t *testing.T) {
	orders := nodetest.Orders(10)
	hosts := testnet.New(t, 2)
	nodetest.StartNode(t, hosts[0], orders, nil, all3)
	h, _ := orders[3].ComputeOrderHash()
	hashes := bytes.Repeat(h[:], reconcile.MaxFetch)
	w := nodetest.OpenWireStream(t, hosts[1], hosts[0].ID())
	a, _ := ask(t, w, `{"op":"fetch","orderfilter":null,"hashes":"`+base64.StdEncoding.EncodeToString(hashes)+`"}`)
	if len(a.Orders) != 1 {
		t.Fatalf("a fetch naming one hash %d times drew %d orders", reconcile.MaxFetch, len(a.Orders))
	}
}

// TestReconcileAmplificationFigures measures what a requester claiming the
// largest held count draws from a provider of 10 000 orders with the
// default settings, over 5 s: bytes out per byte in and per second. It
// asserts nothing; set ORDERSYNC_FIGURES to run it.
func TestReconcileAmplificationFigures(t *testing.T) {
	if os.Getenv("ORDERSYNC_FIGURES") == "" {
		t.Skip("set ORDERSYNC_FIGURES to measure")
	}
	for _, limits := range []string{"lifted", "default"} {
		hosts := testnet.New(t, 2)
		var opts []ordersync.Option
		if limits == "default" {
			opts = append(opts, ordersync.WithRateLimit(ordersync.DefaultRateLimit, ordersync.DefaultRateBurst),
				ordersync.WithPeerRateLimit(ordersync.DefaultPeerRateLimit, ordersync.DefaultPeerRateBurst))
		}
		nodetest.StartNodeWith(t, hosts[0], nodetest.Orders(10_000), nil, all3, opts)
		in, out, took := amplification(t, hosts[0], hosts[1], 5*time.Second)
		t.Logf("FIGURE amplification, Service rate limits %s: %d bytes in, %d out, x%.0f, %.2f MiB/s over %v", limits,
			in, out, float64(out)/float64(in), float64(out)/took.Seconds()/(1<<20), took.Round(time.Millisecond))
	}
}
