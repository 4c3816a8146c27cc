package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/zeroex"
)

// lineProcess is a running command whose stdout lines the test reads as
// they come.
type lineProcess struct {
	cmd    *exec.Cmd
	lines  chan string // closed at EOF
	stderr syncBuffer
}

// syncBuffer is a bytes.Buffer that a process writes while a test reads.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // gets a value after a write, if it has none
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{}, 1)
	}
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) changes() chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{}, 1)
	}
	return b.changed
}

// waitFor waits until the buffer holds sub, at most processTimeout.
func (b *syncBuffer) waitFor(t *testing.T, sub string) {
	t.Helper()
	timeout := time.After(processTimeout)
	for !strings.Contains(b.String(), sub) {
		select {
		case <-b.changes():
		case <-timeout:
			t.Fatalf("no %q after %v in:\n%s", sub, processTimeout, b.String())
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startLines(t *testing.T, cmd *exec.Cmd) *lineProcess {
	t.Helper()
	p := &lineProcess{cmd: cmd, lines: make(chan string, 1024)}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// waitLine returns the first line (from here on) that match accepts, and
// fails the test if the process ends or processTimeout passes first.
func (p *lineProcess) waitLine(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.After(processTimeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("process ended before %s; stderr:\n%s", what, p.stderr.String())
			}
			if match(line) {
				return line
			}
		case <-timeout:
			t.Fatalf("no %s after %v; stderr:\n%s", what, processTimeout, p.stderr.String())
		}
	}
}

// signal sends sig and returns the exit code.
func (p *lineProcess) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range p.lines { // drain, so the process never blocks on stdout
		}
	}()
	timer := time.AfterFunc(processTimeout, func() { p.cmd.Process.Kill() })
	defer timer.Stop()
	_ = p.cmd.Wait()
	return p.cmd.ProcessState.ExitCode()
}

// holds matches a node's status line that reports n orders held.
func holds(n int) func(string) bool {
	return func(line string) bool {
		return strings.HasPrefix(line, "node: status:") && strings.Contains(line, fmt.Sprintf(", held %d,", n))
	}
}

func startNode(t *testing.T, bin string, args ...string) (*lineProcess, string) {
	t.Helper()
	p := startLines(t, testCommand(bin, append([]string{"node", "--status-every", "100ms", "--interval", "300ms"}, args...)...))
	addr := p.waitLine(t, "address line", func(l string) bool { return strings.HasPrefix(l, "/ip4/") })
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
	nodeB.waitLine(t, "node B holding the union", holds(union))
	nodeA.waitLine(t, "node A holding the union (synced with an inbound peer)", holds(union))
	nodeB.waitLine(t, "a round line", func(l string) bool { return strings.HasPrefix(l, "node: round ") })
	checkNodeMetrics(t, nodeA)

	if code := nodeB.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("node B exited %d on SIGTERM; stderr:\n%s", code, nodeB.stderr.String())
	}
	mustContain(t, "node B's stderr", nodeB.stderr.String(), fmt.Sprintf("node: stopping: %d orders held", union))

	// Restarted on its database, with no peer to ask, it still holds them.
	nodeBdb, _ := startNode(t, bin, "--db", db)
	nodeBdb.waitLine(t, "node B holding the union from its database", holds(union))
	if code := nodeBdb.signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("node B on its database exited %d on SIGINT; stderr:\n%s", code, nodeBdb.stderr.String())
	}

	// Restarted in memory, without orders, it gets them all back from A.
	nodeB2, addrB2 := startNode(t, bin, "--identity", keyB, "--peer", addrA)
	if idOf(addrB2) != idOf(addrB) {
		t.Errorf("restarted node B has peer ID %s, want %s (from its identity file)", idOf(addrB2), idOf(addrB))
	}
	// The start-up GetOrders is one round, reported once.
	roundsBefore := 0
	nodeB2.waitLine(t, "restarted node B's start-up line", func(l string) bool {
		if strings.HasPrefix(l, "node: round ") {
			roundsBefore++
		}
		return strings.HasPrefix(l, "node: start-up sync: ")
	})
	if roundsBefore != 1 {
		t.Errorf("%d round lines before the start-up line, want 1", roundsBefore)
	}
	nodeB2.waitLine(t, "restarted node B holding the union", holds(union))

	if code := nodeA.signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("node A exited %d on SIGINT; stderr:\n%s", code, nodeA.stderr.String())
	}
	if code := nodeB2.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("restarted node B exited %d on SIGTERM; stderr:\n%s", code, nodeB2.stderr.String())
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
func checkNodeMetrics(t *testing.T, p *lineProcess) {
	t.Helper()
	const said = "node: metrics on "
	p.stderr.waitFor(t, said)
	text := p.stderr.String()
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
	mustContain(t, "the node's metrics", string(body), "ordersync_")
}
