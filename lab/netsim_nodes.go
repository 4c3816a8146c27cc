package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/lab/internal/netsim"
	"github.com/ordersync/ordersync/zeroex"
)

// Ports inside every node's namespace: the relay listens on the node's
// address at netsimPublicPort and forwards to the node on loopback.
const (
	netsimPublicPort = 4001
	netsimNodePort   = 4002
)

// netsimStatusEvery is how often nodes report their status to netsim.
const netsimStatusEvery = time.Second

// simNode is one node of a run: its fixed arguments and what its
// processes reported.
type simNode struct {
	i    int
	id   peer.ID
	args []string // the node command's arguments

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has been waited for
	exitErr  error
	stopping bool // an exit now is expected
	restarts int
	// Counters of the current process, and the sum of earlier ones.
	held, peers     int
	in, out         int64
	rounds          int
	pastIn, pastOut int64
	pastRounds      int
	samples         []nodeSample

	// What the node lacked at the start: the orders of the union it did
	// not start with, and their bytes.
	lackedOrders int
	lackedBytes  int64
	// link is what its link carried during the run (its interface
	// counters), set at the end.
	link netsim.LinkCounters
}

// nodeSample is a node's state at one moment of the run.
type nodeSample struct {
	at   time.Duration // since the run started
	held int
	in   int64
}

// totals returns the node's counters over all its processes.
func (n *simNode) totals() (held int, in, out int64, rounds int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.held, n.pastIn + n.in, n.pastOut + n.out, n.pastRounds + n.rounds
}

// netsimPlan is what a run's nodes start with, as far as the report needs
// it.
type netsimPlan struct {
	union    int                   // distinct orders the nodes hold together
	diameter int                   // of the bootstrap graph; 1 with --mdns alone
	sample   []*zeroex.SignedOrder // orders to measure verification with
}

// prepareNodes writes each node's identity and order file into dir and
// builds its command line. It returns the nodes, each knowing what it
// lacks, and the plan.
func prepareNodes(cfg netsimConfig, dir string, addr func(i int) string) ([]*simNode, netsimPlan, error) {
	plan := netsimPlan{union: cfg.nodes * cfg.orders, diameter: 1}
	nodes := make([]*simNode, cfg.nodes)
	for i := range nodes {
		key, err := cli.LoadOrCreateIdentity(filepath.Join(dir, fmt.Sprintf("node%d.key", i)))
		if err != nil {
			return nil, plan, err
		}
		id, err := peer.IDFromPrivateKey(key)
		if err != nil {
			return nil, plan, err
		}
		nodes[i] = &simNode{i: i, id: id}
	}
	extra := int(cfg.overlap*float64(cfg.orders) + 0.5)
	own := make([][]*zeroex.SignedOrder, cfg.nodes)
	ownBytes := make([]int64, cfg.nodes)
	sharedBytes := make([]int64, cfg.nodes) // of the first extra orders of own
	var unionBytes int64
	for i := range nodes {
		own[i] = ordergen.Generate(ordergen.Options{Seed: cfg.seed, First: i * cfg.orders, Count: cfg.orders})
		for k, o := range own[i] {
			size := orderSize(o)
			ownBytes[i] += size
			if k < extra {
				sharedBytes[i] += size
			}
		}
		unionBytes += ownBytes[i]
		if len(plan.sample) < verifySample {
			plan.sample = append(plan.sample, own[i][:min(len(own[i]), verifySample-len(plan.sample))]...)
		}
	}
	for i, n := range nodes {
		next := (i + 1) % cfg.nodes
		n.lackedOrders = plan.union - cfg.orders - extra
		n.lackedBytes = unionBytes - ownBytes[i] - sharedBytes[next]
		file := filepath.Join(dir, fmt.Sprintf("node%d.jsonl", i))
		if _, err := cli.WriteOrderFile(file, slices.Values(append(slices.Clip(own[i]), own[next][:extra]...))); err != nil {
			return nil, plan, err
		}
		n.args = nodeArgs(cfg, i, addr(i), filepath.Join(dir, fmt.Sprintf("node%d.key", i)), file)
		if cfg.mdns {
			// mDNS announces the addresses the node listens on, not
			// --announce's: it listens on eth0 too, and what it finds
			// that way is dialled there, past the delaying relay.
			n.args[slices.Index(n.args, "--listen")+1] = fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", netsimNodePort)
			n.args = append(n.args, "--mdns")
		}
	}
	if cfg.bootstrap == 0 {
		return nodes, plan, nil
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.seed), 15))
	topology := bootstrapTopology(cfg.nodes, cfg.bootstrap, rng)
	if !cfg.mdns {
		plan.diameter = diameter(topology)
	}
	for i, peers := range topology {
		for _, j := range peers {
			nodes[i].args = append(nodes[i].args, "--peer",
				fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", addr(j), netsimPublicPort, nodes[j].id))
		}
	}
	return nodes, plan, nil
}

// nodeArgs is node i's command line: ordersync node's, or the GossipSub
// baseline's (netsim gossip-node, run by the lab's own program).
func nodeArgs(cfg netsimConfig, i int, addr, identity, orders string) []string {
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", netsimNodePort)
	announce := fmt.Sprintf("/ip4/%s/tcp/%d", addr, netsimPublicPort)
	rpc := fmt.Sprintf("127.0.0.1:%d", netsimRPCPort)
	if cfg.baseline == baselineGossipSub {
		return []string{"netsim", "gossip-node", "--listen", listen, "--announce", announce, "--identity", identity,
			"--rpc", rpc, "--expiry-margin", cfg.expiryMargin.String(), "--status-every", netsimStatusEvery.String()}
	}
	args := []string{"node",
		"--listen", listen,
		"--announce", announce,
		"--identity", identity,
		"--orders", orders,
		"--interval", cfg.interval.String(),
		"--min-peers", fmt.Sprint(cfg.minPeers),
		"--subprotocols", cfg.subs,
		"--status-every", netsimStatusEvery.String(),
		"--log-level", cfg.logLevel,
	}
	if cfg.workload > 0 {
		args = append(args, "--rpc", rpc, "--expiry-margin", cfg.expiryMargin.String())
	}
	if cfg.noPipeline {
		args = append(args, "--no-pipeline")
	}
	if cfg.noNews {
		args = append(args, "--no-news")
	}
	return args
}

// verifySample is how many orders netsim verifies to measure this
// machine's rate.
const verifySample = 4000

// bootstrapTopology gives every one of n nodes k distinct random other
// nodes to dial, drawing again until the graph is connected.
func bootstrapTopology(n, k int, rng *rand.Rand) [][]int {
	for {
		peers := make([][]int, n)
		for i := range peers {
			perm := rng.Perm(n - 1)[:k]
			for _, p := range perm {
				if p >= i {
					p++ // skip i itself
				}
				peers[i] = append(peers[i], p)
			}
			slices.Sort(peers[i])
		}
		if diameter(peers) >= 0 {
			return peers
		}
	}
}

// start runs the node's process in its namespace and follows its stdout.
func (n *simNode) start(ctx context.Context, net *netsim.Net, exe string, stderr io.Writer, began time.Time) error {
	cmd := net.Command(ctx, n.i, exe, n.args...)
	errLines := prefixWriter(stderr, fmt.Sprintf("node%d: ", n.i))
	cmd.Stderr = errLines
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		errLines.Close()
		return fmt.Errorf("node %d: %w", n.i, err)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.stopping, n.exitErr = cmd, exited, false, nil
	n.pastIn, n.pastOut, n.pastRounds = n.pastIn+n.in, n.pastOut+n.out, n.pastRounds+n.rounds
	n.in, n.out, n.rounds = 0, 0, 0
	n.mu.Unlock()
	go func() {
		n.follow(stdout, began)
		err := cmd.Wait()
		errLines.Close()
		n.mu.Lock()
		n.exitErr = err
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

// follow reads the node's status lines until its stdout closes.
func (n *simNode) follow(r io.Reader, began time.Time) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var round, peers, held int
		var in, out int64
		if _, err := fmt.Sscanf(sc.Text(), "node: status: round %d, peers %d, held %d, bytes in %d, out %d", &round, &peers, &held, &in, &out); err != nil {
			continue // addresses and round lines
		}
		n.mu.Lock()
		n.held, n.peers, n.in, n.out, n.rounds = held, peers, in, out, round
		n.samples = append(n.samples, nodeSample{at: time.Since(began), held: held, in: n.pastIn + in})
		n.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// restart kills the node's process and starts it again (--churn).
func (n *simNode) restart(ctx context.Context, net *netsim.Net, exe string, stderr io.Writer, began time.Time) error {
	fmt.Fprintf(stderr, "netsim: %v: churn: killing node %d and starting it again\n", time.Since(began).Round(100*time.Millisecond), n.i)
	n.stop(true)
	n.mu.Lock()
	n.restarts++
	n.held = 0
	n.mu.Unlock()
	return n.start(ctx, net, exe, stderr, began)
}

// stop ends the node's process: SIGTERM, or SIGKILL when kill is set, and
// waits for it.
func (n *simNode) stop(kill bool) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.stopping = true
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = cmd.Process.Signal(sig)
	<-exited
}

// unexpectedExit returns why the node's process ended, if it ended while
// nobody was stopping it.
func (n *simNode) unexpectedExit() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exited == nil || n.stopping {
		return nil
	}
	select {
	case <-n.exited:
		if n.exitErr == nil {
			return fmt.Errorf("node %d exited", n.i)
		}
		return fmt.Errorf("node %d exited: %w", n.i, n.exitErr)
	default:
		return nil
	}
}

// prefixWriter returns a writer that writes each line to w with a prefix.
// Close it when done.
func prefixWriter(w io.Writer, prefix string) io.WriteCloser {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintf(w, "%s%s\n", prefix, strings.TrimRight(sc.Text(), "\r"))
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw
}
