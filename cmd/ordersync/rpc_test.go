package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/proctest"
	"github.com/ordersync/ordersync/zeroex"
)

// TestRPCAddGetStats runs mesh_addOrders, mesh_getOrders and mesh_getStats
// against a real node, over HTTP and over WebSocket: every rejection code
// the node gives, an order held already, pinning, paging over a snapshot
// that orders added later do not change, and the neutral chain fields.
func TestRPCAddGetStats(t *testing.T) {
	bin := buildCLI(t, t.TempDir())
	for i, transport := range []string{"http", "ws"} {
		t.Run(transport, func(t *testing.T) {
			node := startRPCNode(t, bin, false)
			url := node.httpURL()
			if transport == "ws" {
				url = node.wsURL()
			}
			c := dial(t, url)
			seed := int64(100 + 10*i)

			good := ordergen.Generate(ordergen.Options{Seed: seed, Count: 5})
			expired := expiringOrders(seed+1, 1, time.Now().Add(-time.Hour).Unix())[0]
			otherChain := ordergen.Generate(ordergen.Options{Seed: seed + 2, Count: 1, ChainID: 1})[0]
			otherExchange := ordergen.Generate(ordergen.Options{Seed: seed + 3, Count: 1, Exchange: common.HexToAddress("0x00000000000000000000000000000000000000e1")})[0]
			badSig := ordergen.Generate(ordergen.Options{Seed: seed + 4, Count: 1})[0]
			badSig.Signature = append([]byte(nil), badSig.Signature...)
			badSig.Signature[5] ^= 0xff

			batch := []any{good[0], good[1], good[2], expired, otherChain, otherExchange, badSig, map[string]any{"makerAddress": 7}, good[0]}
			var res rpcResults
			call(t, c, &res, "mesh_addOrders", batch, map[string]bool{"pinned": false})
			if len(res.Accepted) != 3 {
				t.Fatalf("accepted %d orders, want 3: %+v", len(res.Accepted), res)
			}
			for j, a := range res.Accepted {
				if a.OrderHash != hashOf(t, good[j]) || !a.IsNew || a.FillableTakerAssetAmount != good[j].TakerAssetAmount.String() || !a.SignedOrder.Equal(good[j]) {
					t.Errorf("accepted[%d] = %+v, want order %d, new, fillable its takerAssetAmount", j, a, j)
				}
			}
			codes := res.codes()
			for o, want := range map[*zeroex.SignedOrder]string{
				expired:       "OrderExpired",
				otherChain:    "OrderForIncorrectChain",
				otherExchange: "InvalidSchema",
				badSig:        "OrderHasInvalidSignature",
			} {
				if got := codes[hashOf(t, o)]; got != want {
					t.Errorf("order %x rejected with %q, want %q", hashOf(t, o).Bytes()[:4], got, want)
				}
			}
			if len(res.Rejected) != 5 {
				t.Errorf("rejected %d orders, want 5 (the duplicate is answered once): %+v", len(res.Rejected), res.Rejected)
			}
			var unreadable *rpcRejected
			for k := range res.Rejected {
				if string(res.Rejected[k].SignedOrder) == "null" {
					unreadable = &res.Rejected[k]
				}
			}
			if unreadable == nil || unreadable.Status.Code != "InvalidSchema" || unreadable.Kind != "MESH_VALIDATION" || unreadable.OrderHash != (common.Hash{}) {
				t.Errorf("the unreadable order came back as %+v, want InvalidSchema, null order, zero hash", unreadable)
			}

			// Held already: accepted, not new. [orders] alone pins, as Mesh
			// did for clients before v9.
			call(t, c, &res, "mesh_addOrders", []any{good[1], good[3], good[4]})
			if len(res.Accepted) != 3 || res.Accepted[0].IsNew || !res.Accepted[1].IsNew || !res.Accepted[2].IsNew {
				t.Fatalf("re-adding: %+v, want 3 accepted, the first not new", res)
			}

			var st map[string]any
			call(t, c, &st, "mesh_getStats")
			for field, want := range map[string]any{
				"ethereumChainID": float64(ordergen.DefaultChainID), "numOrders": float64(5), "numOrdersIncludingRemoved": float64(5),
				"numPinnedOrders": float64(3), // re-adding pins one held already "ethRPCRequestsSentInCurrentUTCDay": float64(0), "ethRPCRateLimitExpiredRequests": float64(0),
				"latestBlock":     map[string]any{"number": float64(0), "hash": common.Hash{}.Hex()}, "numPeers": float64(0), "pubSubTopic": "",
				"maxExpirationTime": "115792089237316195423570985008687907853269984665640564039457584007913129639935",
			} {
				if fmt.Sprint(st[field]) != fmt.Sprint(want) {
					t.Errorf("stats %s = %v, want %v", field, st[field], want)
				}
			}
			if id := idOf(node.p2p); st["peerID"] != id {
				t.Errorf("stats peerID = %v, want %s", st["peerID"], id)
			}
			day := time.Now().UTC().Truncate(24 * time.Hour).Format(time.RFC3339)
			if st["startOfCurrentUTCDay"] != day {
				t.Errorf("stats startOfCurrentUTCDay = %v, want %s", st["startOfCurrentUTCDay"], day)
			}

			// Paging: 2 a page over a snapshot; an order added meanwhile is
			// not in it, and the page past the end closes it.
			var page rpcPage
			call(t, c, &page, "mesh_getOrders", 0, 2, "")
			id := page.SnapshotID
			late := ordergen.Generate(ordergen.Options{Seed: seed + 5, Count: 1})
			call(t, c, &res, "mesh_addOrders", late)
			got := map[common.Hash]bool{}
			for p := 0; ; p++ {
				if p > 0 {
					call(t, c, &page, "mesh_getOrders", p, 2, id)
				}
				if page.SnapshotID != id {
					t.Fatalf("page %d: snapshot %q, want %q", p, page.SnapshotID, id)
				}
				if len(page.OrdersInfos) == 0 {
					break
				}
				for _, oi := range page.OrdersInfos {
					if oi.OrderHash != hashOf(t, oi.SignedOrder) || oi.FillableTakerAssetAmount != oi.SignedOrder.TakerAssetAmount.String() {
						t.Errorf("page %d: %+v: hash or fillable amount wrong", p, oi)
					}
					got[oi.OrderHash] = true
				}
			}
			if len(got) != 5 || got[hashOf(t, late[0])] {
				t.Errorf("paged %d orders (late one in: %v), want the 5 of the snapshot", len(got), got[hashOf(t, late[0])])
			}
			if err := callErr(c, &page, "mesh_getOrders", 0, 2, id); err == nil || !strings.Contains(err.Error(), "no snapshot with that ID") {
				t.Errorf("a closed snapshot: error %v, want 'no snapshot with that ID'", err)
			}
			call(t, c, &page, "mesh_getOrders", 0, 1000, "")
			if len(page.OrdersInfos) != 6 {
				t.Errorf("a new snapshot has %d orders, want 6", len(page.OrdersInfos))
			}
		})
	}
}

// TestRPCSubscribe subscribes over WebSocket to "orders" and "heartbeat":
// ADDED for orders added through the API, EXPIRED when they expire,
// STOPPED_WATCHING when a full store evicts one; and the capacity's codes:
// OrderMaxExpirationExceeded and DatabaseFullOfOrders. Over HTTP a
// subscription is refused. --max-orders and --expiry-margin work the same
// on a --db store as on the memory store.
func TestRPCSubscribe(t *testing.T) {
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	t.Run("memory", func(t *testing.T) { testRPCSubscribe(t, bin) })
	t.Run("sqlite", func(t *testing.T) { testRPCSubscribe(t, bin, "--db", "sqlite:"+filepath.Join(dir, "orders.db")) })
}

func testRPCSubscribe(t *testing.T, bin string, args ...string) {
	node := startRPCNode(t, bin, false, append([]string{"--max-orders", "4", "--expiry-margin", "2s"}, args...)...)
	c := dial(t, node.wsURL())
	ctx := context.Background()

	ticks := make(chan string, 4)
	hb, err := c.Subscribe(ctx, "mesh", ticks, "heartbeat")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case tick := <-ticks:
		if tick != "tick" {
			t.Errorf("heartbeat %q, want tick", tick)
		}
	case <-time.After(proctest.Timeout):
		t.Fatal("no heartbeat")
	}
	hb.Unsubscribe()

	events := make(chan []rpcEvent, 64)
	sub, err := c.Subscribe(ctx, "mesh", events, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	soon := expiringOrders(200, 2, time.Now().Add(8*time.Second).Unix())
	var res rpcResults
	call(t, c, &res, "mesh_addOrders", soon, map[string]bool{"pinned": false})
	if len(res.Accepted) != 2 {
		t.Fatalf("accepted %+v, want both", res)
	}
	// Within the margin: expired already.
	call(t, c, &res, "mesh_addOrders", expiringOrders(199, 1, time.Now().Add(time.Second).Unix()), map[string]bool{"pinned": false})
	if len(res.Rejected) != 1 || res.Rejected[0].Status.Code != "OrderExpired" {
		t.Errorf("an order within --expiry-margin of its expiry: %+v, want OrderExpired", res)
	}
	soonSet := hashSet(t, soon)
	seen := waitEvents(t, "ADDED then EXPIRED", events, sub, func(evs []rpcEvent) bool {
		return countState(evs, "EXPIRED", soonSet) == 2
	})
	if countState(seen, "ADDED", soonSet) != 2 {
		t.Errorf("saw %d ADDED of 2", countState(seen, "ADDED", soonSet))
	}
	for _, e := range seen {
		if e.ContractEvents == nil || len(e.ContractEvents) != 0 || e.SignedOrder == nil || e.Timestamp.IsZero() {
			t.Errorf("event %+v: want an order, a timestamp and empty contractEvents", e)
		}
		if want := map[string]string{"ADDED": e.SignedOrder.TakerAssetAmount.String(), "EXPIRED": "0"}[e.EndState]; e.FillableTakerAssetAmount != want {
			t.Errorf("%s event: fillable %s, want %s", e.EndState, e.FillableTakerAssetAmount, want)
		}
	}

	// Capacity 4: two pinned and two others fill it; a fifth that expires
	// sooner evicts the one that expires last (STOPPED_WATCHING) and the
	// store then refuses later expirations unpinned.
	base := time.Now().Add(24 * time.Hour).Unix()
	pinned := expiringOrders(201, 2, base+1000)
	call(t, c, &res, "mesh_addOrders", pinned, map[string]bool{"pinned": true})
	early := expiringOrders(202, 1, base+10)
	late := expiringOrders(203, 1, base+500)
	call(t, c, &res, "mesh_addOrders", []any{early[0], late[0]}, map[string]bool{"pinned": false})
	earlier := expiringOrders(204, 1, base+5)
	call(t, c, &res, "mesh_addOrders", earlier, map[string]bool{"pinned": false})
	if len(res.Accepted) != 1 {
		t.Fatalf("the order that expires soonest: %+v, want accepted", res)
	}
	lateSet := hashSet(t, late)
	waitEvents(t, "STOPPED_WATCHING of the evicted order", events, sub, func(evs []rpcEvent) bool {
		return countState(evs, "STOPPED_WATCHING", lateSet) == 1
	})
	var st map[string]any
	call(t, c, &st, "mesh_getStats")
	if st["maxExpirationTime"] != bigString(base+500-1) && st["maxExpirationTime"] != bigString(base+500) {
		t.Errorf("maxExpirationTime %v after evicting an order expiring at %d", st["maxExpirationTime"], base+500)
	}
	call(t, c, &res, "mesh_addOrders", expiringOrders(205, 1, base+900), map[string]bool{"pinned": false})
	if len(res.Rejected) != 1 || res.Rejected[0].Status.Code != "OrderMaxExpirationExceeded" {
		t.Errorf("an order beyond maxExpirationTime: %+v, want OrderMaxExpirationExceeded", res)
	}
	call(t, c, &res, "mesh_addOrders", expiringOrders(206, 3, base+2000), map[string]bool{"pinned": true})
	if len(res.Rejected) != 3 || res.Rejected[0].Status.Code != "DatabaseFullOfOrders" {
		t.Errorf("pinned orders beyond the capacity: %+v, want DatabaseFullOfOrders", res)
	}

	// No subscriptions over HTTP.
	h := dial(t, node.httpURL())
	if _, err := h.Subscribe(ctx, "mesh", make(chan string), "heartbeat"); err == nil {
		t.Error("a subscription over HTTP worked")
	}
}

// TestRPCAddPeer: mesh_addPeer connects the node to another, which then
// counts in numPeers; a bad peer ID is refused.
func TestRPCAddPeer(t *testing.T) {
	bin := buildCLI(t, t.TempDir())
	a := startRPCNode(t, bin, false)
	b := startRPCNode(t, bin, false)
	c := dial(t, a.httpURL())
	id := idOf(b.p2p)
	call(t, c, nil, "mesh_addPeer", id, []string{strings.TrimSuffix(b.p2p, "/p2p/"+id)})
	var st map[string]any
	call(t, c, &st, "mesh_getStats")
	if st["numPeers"] != float64(1) {
		t.Errorf("numPeers %v after mesh_addPeer, want 1", st["numPeers"])
	}
	if err := callErr(c, nil, "mesh_addPeer", "nope", []string{}); err == nil || !strings.Contains(err.Error(), `peerID "nope"`) {
		t.Errorf("a bad peer ID: %v", err)
	}
	if err := callErr(c, nil, "mesh_addPeer", id, []string{"/nope"}); err == nil || !strings.Contains(err.Error(), `multiaddr "/nope"`) {
		t.Errorf("a bad multiaddr: %v", err)
	}
}

// TestRPCReachesPeers: an order added through the API at one node reaches
// a node synced with it at its next round, with no restart, whether the
// first node keeps its orders in memory or in SQLite: the provider serves
// what its store holds now (reconcile's snapshots follow the store's
// version).
func TestRPCReachesPeers(t *testing.T) {
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	for i, store := range []string{"memory", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			// A starts with orders, so that B's first sync completes and
			// the orders added later come in a periodic round.
			initial := ordergen.Generate(ordergen.Options{Seed: 310 + int64(i), Count: 5})
			file := filepath.Join(dir, store+".jsonl")
			if _, err := cli.WriteOrderFile(file, slices.Values(initial)); err != nil {
				t.Fatal(err)
			}
			args := []string{"--orders", file}
			if store == "sqlite" {
				args = append(args, "--db", "sqlite:"+filepath.Join(dir, "a.db"))
			}
			a := startRPCNode(t, bin, false, args...)
			b := startRPCNode(t, bin, true, "--peer", a.p2p)
			b.WaitLine(t, "B's start-up sync", func(l string) bool { return strings.HasPrefix(l, "node: start-up sync: ") })
			go func() {
				for range b.Lines {
				}
			}()
			wsB := dial(t, b.wsURL())
			events := make(chan []rpcEvent, 16)
			sub, err := wsB.Subscribe(context.Background(), "mesh", events, "orders")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			orders := ordergen.Generate(ordergen.Options{Seed: 300 + int64(i), Count: 3})
			var res rpcResults
			call(t, dial(t, a.httpURL()), &res, "mesh_addOrders", orders)
			set := hashSet(t, orders)
			waitEvents(t, "ADDED at the peer", events, sub, func(evs []rpcEvent) bool { return countState(evs, "ADDED", set) == 3 })
		})
	}
}

// TestRPCDatabase: with --db, accepted means stored: a node restarted on
// the database pages back what was added, and ADDED comes from the API's
// own adds (the database store has no change feed yet).
func TestRPCDatabase(t *testing.T) {
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	db := "sqlite:" + filepath.Join(dir, "rpc.db")
	node := startRPCNode(t, bin, false, "--db", db)
	c := dial(t, node.wsURL())
	events := make(chan []rpcEvent, 16)
	sub, err := c.Subscribe(context.Background(), "mesh", events, "orders")
	if err != nil {
		t.Fatal(err)
	}
	orders := ordergen.Generate(ordergen.Options{Seed: 400, Count: 4})
	var res rpcResults
	call(t, c, &res, "mesh_addOrders", orders)
	if len(res.Accepted) != 4 {
		t.Fatalf("accepted %+v", res)
	}
	call(t, c, &res, "mesh_addOrders", orders[:1])
	if len(res.Accepted) != 1 || res.Accepted[0].IsNew {
		t.Errorf("re-adding to the database: %+v, want accepted, not new", res)
	}
	set := hashSet(t, orders)
	waitEvents(t, "ADDED from the database node", events, sub, func(evs []rpcEvent) bool { return countState(evs, "ADDED", set) == 4 })
	sub.Unsubscribe()
	if code := node.Signal(t, 15); code != 0 {
		t.Fatalf("node exited %d; stderr:\n%s", code, node.Stderr.String())
	}

	again := startRPCNode(t, bin, false, "--db", db)
	var page rpcPage
	call(t, dial(t, again.httpURL()), &page, "mesh_getOrders", 0, 10, "")
	if len(page.OrdersInfos) != 4 {
		t.Errorf("restarted on its database, the node pages %d orders, want 4", len(page.OrdersInfos))
	}
}

// TestRPCFlags: node's API and store flags refuse what cannot work, and
// --rpc :PORT means loopback.
func TestRPCFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rpc", "nope"}, `--rpc "nope": want host:port`},
		{[]string{"--rpc-chain-id", "5"}, "--rpc-chain-id 5"},
		{[]string{"--max-orders", "-1"}, "--max-orders -1: want 0 or more"},
		{[]string{"--expiry-margin", "-1s"}, "--expiry-margin -1s: must not be negative"},
	} {
		_, err := parseNodeFlags(tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := parseNodeFlags([]string{"--max-orders", "10", "--expiry-margin", "5s", "--db", "sqlite:x.db"}, &bytes.Buffer{}); err != nil {
		t.Errorf("--max-orders and --expiry-margin with --db: %v", err)
	}
	cfg, err := parseNodeFlags([]string{"--rpc", ":60557"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.rpc.addr != "127.0.0.1:60557" {
		t.Errorf("--rpc :60557 listens on %q, want 127.0.0.1:60557", cfg.rpc.addr)
	}
}
