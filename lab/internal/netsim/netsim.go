// Package netsim builds an emulated network of Linux network namespaces for
// ordersync's network simulation: one namespace per node, each joined by a
// veth pair to a bridge that lives in a namespace of its own, with the
// bandwidth of every node's link shaped by tc's tbf qdisc in both
// directions. Round-trip delay comes from Relay, a userspace TCP relay that
// a node's namespace runs in front of the node (the kernel here has no
// netem).
//
// Nothing it creates lives in the caller's namespace: both ends of every
// veth are created inside the namespaces, and the addresses (Subnet) are
// routed only there, so no emulated traffic can reach a real interface.
// Every namespace is named Prefix-<pid>-..., so that Cleanup can remove
// what a crashed run left behind. It needs root and the ip and tc commands.
package netsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Prefix starts the name of every namespace this package creates.
const Prefix = "ordersync-netsim-"

// Subnet holds the nodes' addresses: the benchmarking range of RFC 2544,
// which no real network routes. Node i has 198.18.0.(i+1).
var Subnet = netip.MustParsePrefix("198.18.0.0/24")

// MaxNodes is how many nodes fit in Subnet.
const MaxNodes = 250

// Config describes a network.
type Config struct {
	// Nodes is the number of node namespaces, 1 to MaxNodes.
	Nodes int
	// Bandwidth is every node link's rate in bits per second, each
	// direction; 0 leaves links unshaped.
	Bandwidth int64
}

// Net is a running emulated network.
type Net struct {
	cfg    Config
	run    string // Prefix + pid
	bridge string
	nodes  []string
}

// Setup creates the namespaces, the bridge, the links and their shaping.
// On failure it removes what it made.
func Setup(ctx context.Context, cfg Config) (*Net, error) {
	if cfg.Nodes < 1 || cfg.Nodes > MaxNodes {
		return nil, fmt.Errorf("netsim: %d nodes: want 1 to %d", cfg.Nodes, MaxNodes)
	}
	if cfg.Bandwidth < 0 {
		return nil, fmt.Errorf("netsim: bandwidth %d bit/s: want 0 (unshaped) or more", cfg.Bandwidth)
	}
	run := Prefix + strconv.Itoa(os.Getpid())
	n := &Net{cfg: cfg, run: run, bridge: run + "-bridge"}
	for i := range cfg.Nodes {
		n.nodes = append(n.nodes, fmt.Sprintf("%s-node%d", run, i))
	}
	if err := n.setup(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Net) setup(ctx context.Context) error {
	if err := ip(ctx, "netns", "add", n.bridge); err != nil {
		return err
	}
	br := []string{"-n", n.bridge}
	steps := [][]string{
		append(br, "link", "add", "br0", "type", "bridge"),
		append(br, "link", "set", "br0", "up"),
		append(br, "link", "set", "lo", "up"),
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return err
		}
	}
	for i, ns := range n.nodes {
		if err := n.setupNode(ctx, i, ns); err != nil {
			return fmt.Errorf("netsim: node %d: %w", i, err)
		}
	}
	return nil
}

func (n *Net) setupNode(ctx context.Context, i int, ns string) error {
	if err := ip(ctx, "netns", "add", ns); err != nil {
		return err
	}
	port := fmt.Sprintf("n%d", i)
	addr := n.Addr(i).String() + "/" + strconv.Itoa(Subnet.Bits())
	node := []string{"-n", ns}
	br := []string{"-n", n.bridge}
	steps := [][]string{
		// Both ends are born inside namespaces: nothing touches the
		// caller's.
		{"link", "add", "name", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", n.bridge},
		append(br, "link", "set", port, "master", "br0"),
		append(br, "link", "set", port, "up"),
		append(node, "addr", "add", addr, "dev", "eth0"),
		append(node, "link", "set", "eth0", "up"),
		append(node, "link", "set", "lo", "up"),
		// Multicast (mDNS) goes to the bridge too, and nowhere else.
		append(node, "route", "add", "224.0.0.0/4", "dev", "eth0"),
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return err
		}
	}
	if n.cfg.Bandwidth > 0 {
		// Shape what the node sends (eth0) and what it receives (its
		// bridge port).
		if err := shape(ctx, ns, "eth0", n.cfg.Bandwidth); err != nil {
			return err
		}
		if err := shape(ctx, n.bridge, port, n.cfg.Bandwidth); err != nil {
			return err
		}
	}
	return nil
}

// shape puts a tbf qdisc of rate bits/s on dev in namespace ns. The burst
// is 10 ms of the rate (at least a few packets), the queue 100 ms of it,
// the usual choice for a token bucket that should look like a link.
func shape(ctx context.Context, ns, dev string, rate int64) error {
	burst := max(rate/8/100, 16*1514)
	limit := max(rate/8/10, 4*burst)
	return command(ctx, "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf",
		"rate", strconv.FormatInt(rate, 10)+"bit",
		"burst", strconv.FormatInt(burst, 10),
		"limit", strconv.FormatInt(limit, 10))
}

// Available says why this process cannot build a network (nil if it can):
// it needs root and the ip and tc commands.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netsim: needs root to create network namespaces")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("netsim: needs the %s command (iproute2)", tool)
		}
	}
	return nil
}

// Nodes is the number of node namespaces.
func (n *Net) Nodes() int { return len(n.nodes) }

// Namespace is the name of node i's namespace.
func (n *Net) Namespace(i int) string { return n.nodes[i] }

// Addr is node i's address.
func (n *Net) Addr(i int) netip.Addr {
	a := Subnet.Addr().As4()
	a[3] = byte(i + 1)
	return netip.AddrFrom4(a)
}

// Command returns a command that runs name with args in node i's
// namespace. Its process gets its own process group, so that an interrupt
// of the caller's terminal reaches the caller only, which then stops it.
func (n *Net) Command(ctx context.Context, i int, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.nodes[i], name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// Close kills whatever still runs in the namespaces and deletes them, and
// with them every link and qdisc. It is safe to call more than once.
func (n *Net) Close() error {
	return removeNamespaces(append(append([]string(nil), n.nodes...), n.bridge))
}

// Cleanup removes the namespaces, and kills the processes in them, of
// earlier runs whose process no longer exists; a run still going is left
// alone. It returns the names it removed.
func Cleanup() ([]string, error) {
	all, err := Namespaces()
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, ns := range all {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(ns, Prefix), "-", 2)[0])
		if err == nil && (pid == os.Getpid() || processAlive(pid)) {
			continue
		}
		stale = append(stale, ns)
	}
	return stale, removeNamespaces(stale)
}

// Namespaces lists the namespaces whose name starts with Prefix.
func Namespaces() ([]string, error) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("netsim: ip netns list: %w", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		// Lines read "name" or "name (id: 3)".
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], Prefix) {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// processAlive reports whether pid is a live process that may be a
// netsim run (its command line names netsim), so that a reused pid does
// not keep a dead run's namespaces.
func processAlive(pid int) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(cmdline, []byte("netsim"))
}

// removeNamespaces kills every process in each namespace and deletes it.
// A namespace that does not exist is no error.
func removeNamespaces(names []string) error {
	var errs []error
	for _, ns := range names {
		if _, err := os.Stat("/run/netns/" + ns); errors.Is(err, os.ErrNotExist) {
			continue
		}
		killAll(ns)
		if err := command(context.Background(), "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killAll kills the processes in namespace ns and waits, briefly, for
// them to go.
func killAll(ns string) {
	for attempt := 0; attempt < 50; attempt++ {
		out, err := exec.Command("ip", "netns", "pids", ns).Output()
		if err != nil {
			return
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond) // waiting for the kernel to reap: nothing to wait on
	}
}

func ip(ctx context.Context, args ...string) error { return command(ctx, "ip", args...) }

// command runs a set-up command, returning its stderr in the error.
func command(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
