package main

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/ordersync/ordersync/internal/ordergen"
)

// benchNode starts "ordersync node --rpc" for a benchmark (proctest is for
// tests) and returns its libp2p address and its API's host:port.
func benchNode(b *testing.B, bin string, args ...string) (p2p, hostPort string) {
	b.Helper()
	cmd := exec.Command(bin, append([]string{"node", "--rpc", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p2p = firstLine(b, stdout, "/ip4/")
	const said = "node: rpc on http://"
	hostPort = strings.Fields(strings.TrimPrefix(firstLine(b, stderr, said), said))[0]
	return p2p, hostPort
}

// firstLine returns the first line of r that starts with prefix, and
// drains the rest of r in the background so that the process never blocks.
func firstLine(b *testing.B, r io.Reader, prefix string) string {
	b.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, prefix) {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return line
		}
	}
	b.Fatalf("the node ended before a line starting %q", prefix)
	return ""
}

// BenchmarkRPCAddOrders measures the orders a node takes in per second
// through mesh_addOrders, in calls of 100 new orders over one WebSocket
// connection, into memory and into SQLite (--db). Every order is checked
// (form, filter, expiry, signature) and stored.
func BenchmarkRPCAddOrders(b *testing.B) {
	dir := b.TempDir()
	bin := cliBuild.Into(b, dir)
	for _, store := range []string{"memory", "sqlite"} {
		b.Run(store, func(b *testing.B) {
			var args []string
			if store == "sqlite" {
				args = []string{"--db", "sqlite:" + filepath.Join(b.TempDir(), "bench.db")}
			}
			_, hostPort := benchNode(b, bin, args...)
			c, err := rpc.Dial("ws://" + hostPort)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			orders := ordergen.Generate(ordergen.Options{Seed: 700 + int64(b.N), Count: 100 * b.N})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var res rpcResults
				if err := c.Call(&res, "mesh_addOrders", orders[100*i:100*(i+1)]); err != nil {
					b.Fatal(err)
				}
				if len(res.Accepted) != 100 {
					b.Fatalf("accepted %d of 100", len(res.Accepted))
				}
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "orders/s")
		})
	}
}

// BenchmarkRPCTwoHops measures the time from mesh_addOrders at one node to
// ADDED at a node two hops away (A <- B <- C on loopback, each syncing
// from the one before), with the node's default interval: a baseline for
// how fast an order travels through rounds alone. Each op is one order.
func BenchmarkRPCTwoHops(b *testing.B) {
	dir := b.TempDir()
	bin := cliBuild.Into(b, dir)
	p2pA, rpcA := benchNode(b, bin)
	p2pB, _ := benchNode(b, bin, "--peer", p2pA)
	_, rpcC := benchNode(b, bin, "--peer", p2pB)
	a, err := rpc.Dial("ws://" + rpcA)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	c, err := rpc.Dial("ws://" + rpcC)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	events := make(chan []rpcEvent, 16)
	sub, err := c.Subscribe(context.Background(), "mesh", events, "orders")
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	orders := ordergen.Generate(ordergen.Options{Seed: 800, Count: b.N})
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		want, _ := orders[i].ComputeOrderHash()
		start := time.Now()
		if err := a.Call(nil, "mesh_addOrders", orders[i:i+1]); err != nil {
			b.Fatal(err)
		}
		waitAdded(b, events, sub, want)
		d := time.Since(start)
		total += d
		b.Logf("order %d: %v from A to ADDED at C", i, d)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/order")
}

func waitAdded(b *testing.B, events <-chan []rpcEvent, sub *rpc.ClientSubscription, want common.Hash) {
	timeout := time.After(10 * time.Minute)
	for {
		select {
		case evs := <-events:
			for _, e := range evs {
				if e.EndState == "ADDED" && e.OrderHash == want {
					return
				}
			}
		case err := <-sub.Err():
			b.Fatal(err)
		case <-timeout:
			b.Fatal("the order did not reach C within 10 minutes")
		}
	}
}
