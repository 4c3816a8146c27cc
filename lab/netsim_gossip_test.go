package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// gossipNodeUnderTest is a netsim gossip-node run in this process on
// loopback.
type gossipNodeUnderTest struct {
	addr   string // its full peer address
	rpcURL string
	status chan string // its status lines
	done   chan error
}

func startGossipNode(t *testing.T, ctx context.Context, dir string, name string, extra ...string) *gossipNodeUnderTest {
	t.Helper()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	n := &gossipNodeUnderTest{status: make(chan string, 100), done: make(chan error, 1)}
	args := append([]string{"--listen", "/ip4/127.0.0.1/tcp/0", "--rpc", "127.0.0.1:0",
		"--identity", dir + "/" + name + ".key", "--status-every", "100ms"}, extra...)
	go func() {
		err := runNetsimGossipNode(ctx, args, outW, errW)
		outW.Close()
		errW.Close()
		n.done <- err
	}()
	line, err := bufio.NewReader(errR).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "node: rpc on ws://") {
		t.Fatalf("%s: first stderr line %q, %v", name, line, err)
	}
	n.rpcURL = "ws://" + strings.TrimSpace(strings.TrimPrefix(line, "node: rpc on ws://"))
	go func() { _, _ = io.Copy(io.Discard, errR) }()
	out := bufio.NewScanner(outR)
	if !out.Scan() || !strings.HasPrefix(out.Text(), "/ip4/127.0.0.1/tcp/") {
		t.Fatalf("%s: first stdout line %q, want its address", name, out.Text())
	}
	n.addr = out.Text()
	go func() {
		for out.Scan() {
			select {
			case n.status <- out.Text():
			default: // the test reads only what it waits for
			}
		}
		_, _ = io.Copy(io.Discard, outR)
	}()
	return n
}

// TestGossipNodeFloodsOrders runs the GossipSub baseline's node twice on
// loopback: an order added through one's API arrives at the other, is
// reported ADDED there and served by mesh_getOrders, and a badly signed
// order is refused.
func TestGossipNodeFloodsOrders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	b := startGossipNode(t, ctx, dir, "b")
	a := startGossipNode(t, ctx, dir, "a", "--peer", b.addr)
	// a's status counts the peers in the topic: once b is there, what a
	// publishes reaches it.
	for line := range a.status {
		var peers int
		if _, err := fmt.Sscanf(line, "node: status: round 0, peers %d", &peers); err == nil && peers > 0 {
			break
		}
	}
	clientA, err := rpc.DialContext(ctx, a.rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer clientA.Close()
	clientB, err := rpc.DialContext(ctx, b.rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer clientB.Close()
	events := make(chan []workloadEvent, 16)
	sub, err := clientB.Subscribe(ctx, "mesh", events, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	order := ordergen.Generate(ordergen.Options{Seed: 25, Count: 1})[0]
	hash, _ := order.ComputeOrderHash()
	var res struct {
		Accepted []struct{ IsNew bool } `json:"accepted"`
		Rejected []any                  `json:"rejected"`
	}
	if err := clientA.CallContext(ctx, &res, "mesh_addOrders", []*zeroex.SignedOrder{order}); err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 1 || !res.Accepted[0].IsNew || len(res.Rejected) != 0 {
		t.Fatalf("mesh_addOrders: %+v", res)
	}
	select {
	case batch := <-events:
		if len(batch) != 1 || batch[0].OrderHash != hash || batch[0].EndState != "ADDED" {
			t.Fatalf("b's events: %+v, want %s ADDED", batch, hash)
		}
	case err := <-sub.Err():
		t.Fatal(err)
	case <-ctx.Done():
		t.Fatal("the order never reached b")
	}
	hashes, err := allOrderHashes(ctx, clientB)
	if err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 1 || hashes[0] != hash {
		t.Errorf("b holds %v, want %s", hashes, hash)
	}

	bad := ordergen.Generate(ordergen.Options{Seed: 25, First: 1, Count: 1})[0]
	bad.Signature = append([]byte(nil), order.Signature...) // another order's signature
	if err := clientA.CallContext(ctx, &res, "mesh_addOrders", []*zeroex.SignedOrder{bad}); err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted) != 0 || len(res.Rejected) != 1 {
		t.Errorf("a badly signed order: %+v, want it rejected", res)
	}
	cancel()
	for _, n := range []*gossipNodeUnderTest{a, b} {
		if err := <-n.done; err != nil {
			t.Errorf("gossip node: %v", err)
		}
	}
}
