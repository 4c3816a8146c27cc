package news

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// fuzzSeeds are messages of every kind, good and broken.
func fuzzSeeds(t testing.TB) [][]byte {
	orders := nodetest.Orders(3)
	hashes := make([]common.Hash, len(orders))
	var encoded [][]byte
	for i, o := range orders {
		hashes[i], _ = o.ComputeOrderHash()
		b, err := o.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, b)
	}
	o := originOf("origin")
	announce := appendAnnounce(nil, o, hashes)
	get := appendHashes(nil, kindGet, hashes[:2])
	push := appendPush(nil, kindPush, o, encoded[:2])
	prune := appendOriginMessage(nil, kindPrune, o)
	graft := appendOriginMessage(nil, kindGraft, origin{})
	return [][]byte{
		announce,
		get,
		appendOrders(nil, encoded),
		push,
		append(append(append([]byte(nil), push...), prune...), graft...),
		prune,
		graft,
		{kindPrune, 0},
		{kindPrune, 1, 0},
		{kindPush, 0},
		append([]byte{kindPush, originLen}, o[:]...),
		appendPush(nil, kindRelay, o, encoded[1:]),
		append(append([]byte(nil), announce...), get...),
		{kindAnnounce, 0},
		append([]byte{kindAnnounce, originLen}, o[:]...),
		{kindGet, 0xff, 0xff, 0xff, 0xff, 0x0f},
		{kindOrders, 3, 2, '{', '}'},
		{9, 1, 0},
	}
}

// FuzzNewsReadMessage decodes any bytes as a stream of news messages: each
// either decodes within its bounds or fails with a clear error, never a
// panic.
func FuzzNewsReadMessage(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			m, err := readMessage(r, nil, kindAnnounce, kindGet, kindOrders, kindPush, kindRelay, kindPrune, kindGraft)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isBroken(err) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			switch m.kind {
			case kindAnnounce:
				if len(m.hashes) < 1 || len(m.hashes) > MaxAnnounce {
					t.Fatalf("announcement of %d hashes", len(m.hashes))
				}
			case kindGet:
				if len(m.hashes) < 1 || len(m.hashes) > MaxGet {
					t.Fatalf("get of %d hashes", len(m.hashes))
				}
			case kindOrders:
				if len(m.orders) > MaxGet {
					t.Fatalf("%d orders", len(m.orders))
				}
			case kindPush, kindRelay:
				if len(m.orders) < 1 || len(m.orders) > MaxGet {
					t.Fatalf("push of %d orders", len(m.orders))
				}
			case kindPrune, kindGraft:
				if m.hashes != nil || m.orders != nil {
					t.Fatalf("kind %d with more than an origin", m.kind)
				}
			}
		}
	})
}

// fuzzTarget starts a News over a real host and a store of a few orders,
// for all of a fuzz target's inputs.
func fuzzTarget(f *testing.F) *News {
	h := testnet.NewHost(f)
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), nodetest.Orders(3)); err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	node := ordersync.NewHostNode(h)
	service := ordersync.New(ctx, node, []ordersync.Subprotocol{reconcile.New(store, nil)})
	n, err := New(ctx, service, node, store, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		cancel()
		_ = n.Close()
		_ = service.Close()
	})
	return n
}

// FuzzNewsHandleMessage hands a real News any bytes as the messages of a
// peer's stream (one of a few peers, by the first byte): announcements
// start fetches from a peer that cannot be reached, gets are answered from
// the store, pushes go through the checks into the store, prunes and
// grafts change how the peer is sent new orders. Every answer must be a
// well-formed orders message within the bounds, only gets are answered,
// and nothing may panic or grow without bound.
func FuzzNewsHandleMessage(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(byte(0), s)
	}
	n := fuzzTarget(f)
	f.Fuzz(func(t *testing.T, who byte, data []byte) {
		p := peer.ID([]byte{'f', who % 4})
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			m, err := readMessage(r, nil, kindAnnounce, kindGet, kindPush, kindRelay, kindPrune, kindGraft)
			if err != nil {
				return
			}
			answer := n.handleMessage(p, m)
			if m.kind != kindGet {
				if answer != nil {
					t.Fatalf("kind %d answered", m.kind)
				}
				continue
			}
			got, err := readMessage(bufio.NewReader(bytes.NewReader(answer)), nil, kindOrders)
			if err != nil {
				t.Fatalf("answer does not decode: %v", err)
			}
			if len(got.orders) > len(m.hashes) {
				t.Fatalf("%d orders for a get of %d", len(got.orders), len(m.hashes))
			}
		}
	})
}
