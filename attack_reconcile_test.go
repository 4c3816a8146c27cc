package ordersync_test

import (
	"encoding/json"
	"sync"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/attacktest"
)

// Hostile providers that speak /reconcile-riblt/version/1 to a requester
// that offers it first.
func init() {
	hostileProviders = append(hostileProviders,
		// Symbols and a digest, all consistent, of 2 000 orders it does
		// not have: every fetch comes back empty.
		hostileProvider{name: "reconcile-claims-never-delivered", reconcile: true, lastError: "never came", tag: peerscore.UndeliveredOrders,
			script: answerReconcile(func(op string, from int) []byte {
				if op == reconcile.OpFetch {
					return reconcileResponse(&reconcile.ResponseMetadata{Op: reconcile.OpFetch})
				}
				return ghostSketch(from)
			})},
		// An honest sketch of 500 real orders of its own, and a fetch
		// answered with copies of them whose signatures are broken:
		// rejected, scored, and remembered for this provider only. The
		// next round it is not in sync with the requester, though the
		// decoded difference is empty: it holds orders the requester
		// lacks and sends them spoiled. (Remembered for every provider,
		// such copies once hid real orders from honest providers, and the
		// hostile one counted as synced.)
		hostileProvider{name: "reconcile-spoiled-copies", reconcile: true, lastError: "no valid orders", tag: peerscore.InvalidOrderSignature,
			script: answerReconcile(func(op string, from int) []byte {
				if op == reconcile.OpFetch {
					return spoiledFetch()
				}
				return realSketch(from)
			})},
		// Sketch after sketch with no symbols: the requester's page bound
		// cuts it off.
		hostileProvider{name: "reconcile-endless-rounds", reconcile: true, lastError: "too many pages",
			script: answerReconcile(func(_ string, from int) []byte {
				md := &reconcile.ResponseMetadata{Op: reconcile.OpSketch, Snapshot: 1, Total: 5, From: from}
				if from == 0 {
					md.Digest = make([]byte, riblt.DigestSize)
				}
				return reconcileResponse(md)
			})},
		// A list that was never asked for, in answer to the first sketch
		// request.
		hostileProvider{name: "reconcile-unasked-list", reconcile: true, lastError: "a list that was not asked for",
			script: answerReconcile(func(op string, from int) []byte {
				return ghostList(true)
			})},
		// The first 120 symbols of 2 000 hashes no order has (a
		// difference whose symbols cost more than its list, so the
		// requester asks for the list), then the same hashes in every
		// list answer, never the end: not ascending.
		hostileProvider{name: "reconcile-list-repeats", reconcile: true, lastError: "listed hashes not ascending",
			script: answerReconcileRequest(func(r reconcileRequest) []byte {
				if r.List {
					return ghostList(false)
				}
				return ghostSketchOf(120)
			})},
		// The first 120 symbols of 2 000 hashes no order has, then their
		// list with positions, then "gone" for every fetch: the requester
		// asks once more by hash, and fails the sync on the second.
		hostileProvider{name: "reconcile-gone-forever", reconcile: true, lastError: "a snapshot gone that no fetch named",
			script: answerReconcileRequest(func(r reconcileRequest) []byte {
				switch {
				case r.Op == reconcile.OpFetch:
					return reconcileResponse(&reconcile.ResponseMetadata{Op: reconcile.OpFetch, Gone: true})
				case r.List:
					return ghostListAt(true)
				}
				return ghostSketchOf(120)
			})},
		// The same list with positions, and every fetch by position
		// answered empty: the bounds on undelivered orders end the sync,
		// as for hashes.
		hostileProvider{name: "reconcile-positions-never-delivered", reconcile: true, lastError: "never came", tag: peerscore.UndeliveredOrders,
			script: answerReconcileRequest(func(r reconcileRequest) []byte {
				switch {
				case r.Op == reconcile.OpFetch:
					return reconcileResponse(&reconcile.ResponseMetadata{Op: reconcile.OpFetch})
				case r.List:
					return ghostListAt(true)
				}
				return ghostSketchOf(120)
			})},
		// Random bytes as symbols, claiming a million orders.
		hostileProvider{name: "reconcile-garbage-symbols", reconcile: true, lastError: "too many pages",
			script: answerReconcile(func(op string, from int) []byte {
				syms := attacktest.RandomBytes(uint64(from)+7, 4000*riblt.SymbolSize)
				md := &reconcile.ResponseMetadata{Op: reconcile.OpSketch, Snapshot: 1, Total: 1_000_000, From: from, Symbols: syms}
				if from == 0 {
					md.Digest = make([]byte, riblt.DigestSize)
				}
				if op != reconcile.OpSketch {
					md = &reconcile.ResponseMetadata{Op: reconcile.OpFetch}
				}
				return reconcileResponse(md)
			})},
	)
}

// answerReconcile answers each request with respond(op, from) of the
// request's reconcile metadata (a first request's is the first entry).
func answerReconcile(respond func(op string, from int) []byte) hostileScript {
	return answerReconcileRequest(func(r reconcileRequest) []byte { return respond(r.Op, r.From) })
}

// reconcileRequest is what hostile providers read of a request's
// reconcile metadata.
type reconcileRequest struct {
	Op   string `json:"op"`
	From int    `json:"from"`
	List bool   `json:"list"`
}

// answerReconcileRequest answers each request with respond of the
// request's reconcile metadata.
func answerReconcileRequest(respond func(reconcileRequest) []byte) hostileScript {
	return func(s network.Stream, nextRequest func() []byte) {
		for req := nextRequest(); req != nil; req = nextRequest() {
			var raw struct {
				Metadata json.RawMessage `json:"metadata"`
			}
			_ = json.Unmarshal(req, &raw)
			var first struct {
				Metadata []json.RawMessage `json:"metadata"`
			}
			md := raw.Metadata
			if json.Unmarshal(md, &first) == nil && len(first.Metadata) > 0 {
				md = first.Metadata[0]
			}
			var r reconcileRequest
			_ = json.Unmarshal(md, &r)
			if _, err := s.Write(respond(r)); err != nil {
				return
			}
		}
	}
}

func reconcileResponse(md *reconcile.ResponseMetadata) []byte {
	b, _ := json.Marshal(map[string]any{"type": "Response", "subprotocol": reconcile.Name, "orders": []any{}, "complete": false, "metadata": md})
	return append(b, '\n')
}

// ghostSketch is an honest-looking sketch of 2 000 hashes no order has.
func ghostSketch(from int) []byte { return sketchOf(ghosts(), from) }

// ghosts are 2 000 hashes no order has.
func ghosts() []riblt.Item {
	out := make([]riblt.Item, 2000)
	for i := range out {
		out[i][0], out[i][1], out[i][2] = 0xee, byte(i>>8), byte(i)
	}
	return out
}

// ghostSketchOf is the first n symbols of ghosts, with their digest.
func ghostSketchOf(n int) []byte {
	var digest riblt.Digest
	items := ghosts()
	for i := range items {
		digest.AddItem(&items[i])
	}
	return reconcileResponse(&reconcile.ResponseMetadata{Op: reconcile.OpSketch, Snapshot: 1, Total: len(items),
		Digest: riblt.AppendDigest(nil, &digest), Symbols: riblt.AppendSymbols(nil, riblt.Encode(items, 0, n))})
}

// ghostList is a list answer of 2 000 hashes no order has.
func ghostList(end bool) []byte {
	hashes := make([]byte, 0, 2000*32)
	for _, h := range ghosts() {
		hashes = append(hashes, h[:]...)
	}
	return reconcileResponse(&reconcile.ResponseMetadata{Op: reconcile.OpList, Snapshot: 1, Total: 2000, Hashes: hashes, End: end})
}

// ghostListAt is ghostList with the positions of its hashes, 0 to 1 999.
func ghostListAt(end bool) []byte {
	hashes := make([]byte, 0, 2000*32)
	positions := make([]byte, 0, 2000)
	for i, h := range ghosts() {
		hashes = append(hashes, h[:]...)
		positions = append(positions, byte(min(i, 1))) // 0, then steps of 1
	}
	return reconcileResponse(&reconcile.ResponseMetadata{Op: reconcile.OpList, Snapshot: 1, Total: 2000, Hashes: hashes,
		Positions: positions, End: end})
}

// sketchOf is an honest sketch of items: 3 200 symbols from from, and the
// digest with the first.
func sketchOf(items []riblt.Item, from int) []byte {
	var digest riblt.Digest
	for i := range items {
		digest.AddItem(&items[i])
	}
	md := &reconcile.ResponseMetadata{Op: reconcile.OpSketch, Snapshot: 1, Total: len(items), From: from,
		Symbols: riblt.AppendSymbols(nil, riblt.Encode(items, from, from+3200))}
	if from == 0 {
		md.Digest = riblt.AppendDigest(nil, &digest)
	}
	return reconcileResponse(md)
}

// spoiledOrders are real orders only the spoiling provider holds.
var spoiledOrders = sync.OnceValue(func() []hashedOrder {
	return hashed(ordergen.Generate(ordergen.Options{Seed: 8, Count: reconcile.MaxFetch}))
})

// realSketch is an honest sketch of spoiledOrders.
func realSketch(from int) []byte {
	orders := spoiledOrders()
	items := make([]riblt.Item, len(orders))
	for i, o := range orders {
		items[i] = riblt.Item(o.hash)
	}
	return sketchOf(items, from)
}

// spoiledFetch answers a fetch with every one of spoiledOrders, ascending
// (what a requester holding none asks for), each with a broken signature.
var spoiledFetch = sync.OnceValue(func() []byte {
	orders := spoiledOrders()
	spoiled := make([]json.RawMessage, len(orders))
	for i, o := range orders {
		spoiled[i] = withBadSignature(o)
	}
	b, _ := json.Marshal(map[string]any{"type": "Response", "subprotocol": reconcile.Name, "orders": spoiled, "complete": false,
		"metadata": &reconcile.ResponseMetadata{Op: reconcile.OpFetch}})
	return append(b, '\n')
})
