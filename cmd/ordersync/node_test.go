package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/proctest"
	"github.com/ordersync/ordersync/zeroex"
)

// holds matches a node's status line that reports n orders held.
func holds(n int) func(string) bool {
	return func(line string) bool {
		return strings.HasPrefix(line, "node: status:") && strings.Contains(line, fmt.Sprintf(", held %d,", n))
	}
}

func startNode(t *testing.T, bin string, args ...string) (*proctest.Process, string) {
	t.Helper()
	p := proctest.Start(t, proctest.Command(bin, append([]string{"node", "--status-every", "100ms", "--interval", "300ms"}, args...)...))
	addr := p.WaitLine(t, "address line", func(l string) bool { return strings.HasPrefix(l, "/ip4/") })
	return p, addr
}

// TestNodeShutdownAndRestart runs two node processes on loopback: both end
// with the union of their orders (the first one syncs with the second,
// which only connected to it), each stops cleanly on SIGTERM or SIGINT; the
// second, restarted on its --db, still holds them all, and restarted empty
// with its identity file, comes back with the same peer ID and syncs
// everything again.
func TestNodeShutdownAndRestart(t *testing.T) {
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	a := ordergen.Generate(ordergen.Options{Seed: 15, Count: 300})
	b := ordergen.Generate(ordergen.Options{Seed: 15, First: 250, Count: 200}) // 50 shared
	const union = 450
	fileA, fileB := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	for file, orders := range map[string][]*zeroex.SignedOrder{fileA: a, fileB: b} {
		if _, err := cli.WriteOrderFile(file, slices.Values(orders)); err != nil {
			t.Fatal(err)
		}
	}

	nodeA, addrA := startNode(t, bin, "--orders", fileA, "--identity", filepath.Join(dir, "a.key"), "--metrics", "127.0.0.1:0")
	keyB := filepath.Join(dir, "b.key")
	db := "sqlite:" + filepath.Join(dir, "b.db")
	nodeB, addrB := startNode(t, bin, "--orders", fileB, "--identity", keyB, "--peer", addrA, "--db", db)
	nodeB.WaitLine(t, "node B holding the union", holds(union))
	nodeA.WaitLine(t, "node A holding the union (synced with an inbound peer)", holds(union))
	nodeB.WaitLine(t, "a round line", func(l string) bool { return strings.HasPrefix(l, "node: round ") })
	checkNodeMetrics(t, nodeA)

	if code := nodeB.Signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("node B exited %d on SIGTERM; Stderr:\n%s", code, nodeB.Stderr.String())
	}
	proctest.MustContain(t, "node B's stderr", nodeB.Stderr.String(), fmt.Sprintf("node: stopping: %d orders held", union))

	// Restarted on its database, with no peer to ask, it still holds them.
	nodeBdb, _ := startNode(t, bin, "--db", db)
	nodeBdb.WaitLine(t, "node B holding the union from its database", holds(union))
	if code := nodeBdb.Signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("node B on its database exited %d on SIGINT; Stderr:\n%s", code, nodeBdb.Stderr.String())
	}

	// Restarted in memory, without orders, it gets them all back from A.
	nodeB2, addrB2 := startNode(t, bin, "--identity", keyB, "--peer", addrA)
	if idOf(addrB2) != idOf(addrB) {
		t.Errorf("restarted node B has peer ID %s, want %s (from its identity file)", idOf(addrB2), idOf(addrB))
	}
	// The start-up GetOrders is one round, reported once.
	roundsBefore := 0
	nodeB2.WaitLine(t, "restarted node B's start-up line", func(l string) bool {
		if strings.HasPrefix(l, "node: round ") {
			roundsBefore++
		}
		return strings.HasPrefix(l, "node: start-up sync: ")
	})
	if roundsBefore != 1 {
		t.Errorf("%d round lines before the start-up line, want 1", roundsBefore)
	}
	nodeB2.WaitLine(t, "restarted node B holding the union", holds(union))

	if code := nodeA.Signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("node A exited %d on SIGINT; Stderr:\n%s", code, nodeA.Stderr.String())
	}
	if code := nodeB2.Signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("restarted node B exited %d on SIGTERM; Stderr:\n%s", code, nodeB2.Stderr.String())
	}
}

func idOf(addr string) string { return addr[strings.LastIndex(addr, "/p2p/")+5:] }

func TestNodeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "0s"}, "--interval 0s: want a positive duration"},
		{[]string{"--min-peers", "-1"}, "--min-peers -1"},
		{[]string{"--listen", "nope"}, `--listen "nope": bad multiaddr`},
		{[]string{"--subprotocols", "x"}, `unknown subprotocol "x"`},
		{[]string{"--peer", "/ip4/127.0.0.1/tcp/1"}, "want a full address ending in /p2p/"},
		{[]string{"--lanes", "0"}, "--lanes 0: want 1 to 64"},
		{[]string{"--lanes", "65"}, "--lanes 65: want 1 to 64"},
	} {
		_, err := parseNodeFlags(tc.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
	cfg, err := parseNodeFlags([]string{"--peer", "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWMKe7YSTJzyH5DvjYiiQH8n6otRsXuC2DAB3rjs32jTKW"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.minPeers != 1 {
		t.Errorf("--min-peers defaults to %d with one --peer, want 1", cfg.minPeers)
	}
}

// checkNodeMetrics fetches the metrics of a node started with --metrics
// and looks for ordersync's own among them.
func checkNodeMetrics(t *testing.T, p *proctest.Process) {
	t.Helper()
	const said = "node: metrics on "
	p.Stderr.WaitFor(t, said)
	text := p.Stderr.String()
	url := strings.Fields(text[strings.Index(text, said)+len(said):])[0]
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	proctest.MustContain(t, "the node's metrics", string(body), "ordersync_")
}
