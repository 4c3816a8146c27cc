package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/proctest"
)

// TestRPCBadInput sends a real node what clients should not: it answers
// each with JSON-RPC's error for it, and keeps serving.
func TestRPCBadInput(t *testing.T) {
	bin := buildCLI(t, t.TempDir())
	node := startRPCNode(t, bin, false)
	url := node.httpURL()
	for _, tc := range []struct {
		name, body string
		want       string
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`, `"code":-32700`},
		{"not JSON-RPC", `[1,2]`, `"code":-32600`},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"mesh_mine","params":[]}`, `"code":-32601`},
		{"another namespace", `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`, `"code":-32601`},
		{"orders not an array", `{"jsonrpc":"2.0","id":1,"method":"mesh_addOrders","params":[5]}`, `"code":-32602`},
		{"pinned not a bool", `{"jsonrpc":"2.0","id":1,"method":"mesh_addOrders","params":[[],{"pinned":"yes"}]}`, `"code":-32602`},
		{"page a string", `{"jsonrpc":"2.0","id":1,"method":"mesh_getOrders","params":["x",10,""]}`, `"code":-32602`},
		{"page negative", `{"jsonrpc":"2.0","id":1,"method":"mesh_getOrders","params":[-1,10,""]}`, `page -1: want 0 or more`},
		{"perPage 0", `{"jsonrpc":"2.0","id":1,"method":"mesh_getOrders","params":[0,0,""]}`, `perPage 0: want 1 to 1000`},
		{"perPage too big", `{"jsonrpc":"2.0","id":1,"method":"mesh_getOrders","params":[0,1001,""]}`, `perPage 1001: want 1 to 1000`},
		{"page too far", `{"jsonrpc":"2.0","id":1,"method":"mesh_getOrders","params":[9223372036854775807,2,""]}`, `too far`},
		{"unknown snapshot", `{"jsonrpc":"2.0","id":1,"method":"mesh_getOrders","params":[0,10,"abc"]}`, `no snapshot with that ID`},
		{"too many params", `{"jsonrpc":"2.0","id":1,"method":"mesh_getStats","params":[1]}`, `"code":-32602`},
		{"an order of the wrong type", `{"jsonrpc":"2.0","id":1,"method":"mesh_addOrders","params":[[7,"x",null]]}`, `"code":"InvalidSchema"`},
		{"too many orders", `{"jsonrpc":"2.0","id":1,"method":"mesh_addOrders","params":[[` + strings.Repeat(`{},`, 1000) + `{}]]}`, `1001 orders in one call: at most 1000`},
		{"too many calls in a batch", `[` + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"mesh_getStats"},`, 100) + `{"jsonrpc":"2.0","id":1,"method":"mesh_getStats"}]`, `batch too large`},
	} {
		status, body := postRaw(t, url, []byte(tc.body))
		if !strings.Contains(body, tc.want) {
			t.Errorf("%s: status %d, answer %.300s; want it to contain %s", tc.name, status, body, tc.want)
		}
	}
	huge := bytes.Repeat([]byte(" "), 9<<20)
	if status, _ := postRaw(t, url, huge); status != 413 {
		t.Errorf("a 9 MiB request: status %d, want 413", status)
	}

	// Over WebSocket: an unknown method is answered and the connection
	// serves on; malformed JSON is answered, and then the connection is
	// closed (go-ethereum cannot find the next message in a broken stream).
	ws := dialWS(t, node.wsURL())
	for _, tc := range []struct{ send, want string }{
		{`{"jsonrpc":"2.0","id":2,"method":"mesh_mine","params":[]}`, `"code":-32601`},
		{`{"jsonrpc":"2.0","id":3,"method":"mesh_getStats","params":[]}`, `"ethereumChainID":1337`},
		{`{"jsonrpc":"2.0","id":1,"method":`, `"code":-32700`},
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(proctest.Timeout))
		if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), tc.want) {
			t.Errorf("over WebSocket, %s: answer %.200s, %v; want %s", tc.send, msg, err, tc.want)
		}
	}
	ws.SetReadDeadline(time.Now().Add(proctest.Timeout))
	if _, msg, err := ws.ReadMessage(); err == nil {
		t.Errorf("after malformed JSON the WebSocket still says %.200s", msg)
	}

	// A WebSocket message beyond the bound closes the connection.
	if err := ws.WriteMessage(websocket.TextMessage, huge); err == nil {
		ws.SetReadDeadline(time.Now().Add(proctest.Timeout))
		if _, _, err := ws.ReadMessage(); err == nil {
			t.Error("a 9 MiB WebSocket message was answered")
		}
	}

	// Bounds per connection: 16 subscriptions, 4 snapshots (a fifth
	// replaces the oldest).
	c := dial(t, node.wsURL())
	for i := 0; i < 16; i++ {
		if _, err := c.Subscribe(context.Background(), "mesh", make(chan string, 1), "heartbeat"); err != nil {
			t.Fatalf("subscription %d: %v", i+1, err)
		}
	}
	if _, err := c.Subscribe(context.Background(), "mesh", make(chan string, 1), "heartbeat"); err == nil || !strings.Contains(err.Error(), "too many subscriptions") {
		t.Errorf("a 17th subscription: %v", err)
	}
	var ids []string
	for i := 0; i < 5; i++ {
		var page rpcPage
		call(t, c, &page, "mesh_getOrders", 0, 10, "")
		ids = append(ids, page.SnapshotID)
	}
	if err := callErr(c, nil, "mesh_getOrders", 1, 10, ids[0]); err == nil || !strings.Contains(err.Error(), "no snapshot") {
		t.Errorf("the first of 5 snapshots on one connection: %v, want it gone", err)
	}
	var st map[string]any
	call(t, c, &st, "mesh_getStats") // still serving
}

// TestRPCSnapshotBound: 16 snapshots open at most, all clients together
// (4 per connection).
func TestRPCSnapshotBound(t *testing.T) {
	bin := buildCLI(t, t.TempDir())
	node := startRPCNode(t, bin, false)
	var err error
	opened := 0
	for conn := 0; conn < 5 && err == nil; conn++ {
		c := dial(t, node.wsURL())
		for i := 0; i < 4 && err == nil; i++ {
			if err = callErr(c, nil, "mesh_getOrders", 0, 10, ""); err == nil {
				opened++
			}
		}
	}
	if opened != 16 || err == nil || !strings.Contains(err.Error(), "too many snapshots") {
		t.Errorf("opened %d snapshots, then %v; want 16, then 'too many snapshots'", opened, err)
	}
}

// TestRPCSlowSubscriber: a client that subscribes to "orders" and never
// reads is dropped, connection and all, once it falls behind; the node
// goes on serving others.
func TestRPCSlowSubscriber(t *testing.T) {
	bin := buildCLI(t, t.TempDir())
	node := startRPCNode(t, bin, false)
	ws := dialWS(t, node.wsURL())
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"mesh_subscribe","params":["orders"]}`)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(proctest.Timeout))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"result":"0x`) {
		t.Fatalf("subscribing: %s, %v", msg, err)
	}
	// From here on it reads nothing. 20 000 events of about 1.3 KB pass
	// the socket buffers and the subscription's 4 096 changes.
	c := dial(t, node.httpURL())
	for i := 0; i < 20; i++ {
		orders := ordergen.Generate(ordergen.Options{Seed: 500, First: 1000 * i, Count: 1000})
		var res rpcResults
		call(t, c, &res, "mesh_addOrders", orders)
		if len(res.Accepted) != 1000 {
			t.Fatalf("call %d: accepted %d of 1000", i, len(res.Accepted))
		}
	}
	node.Stderr.WaitFor(t, "rpc: dropped an orders subscriber")
	ws.SetReadDeadline(time.Now().Add(proctest.Timeout))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatal("the slow subscriber's connection is still open")
			}
			break
		}
	}
	var st map[string]any
	call(t, c, &st, "mesh_getStats")
	if st["numOrders"] != float64(20000) {
		t.Errorf("numOrders %v, want 20000", st["numOrders"])
	}
}

// dialWS opens a raw WebSocket to url, closed at the test's end.
func dialWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}
