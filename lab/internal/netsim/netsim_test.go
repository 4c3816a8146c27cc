package netsim

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needNetns skips a test where network namespaces cannot be made; CI
// runs as root, where they can.
func needNetns(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
}

// ours lists the namespaces of this process's runs.
func ours(t *testing.T) []string {
	t.Helper()
	all, err := Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, ns := range all {
		if strings.HasPrefix(ns, Prefix+strconv.Itoa(os.Getpid())+"-") {
			mine = append(mine, ns)
		}
	}
	return mine
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestSetupBuildsShapedLinksAndCloseRemovesEverything(t *testing.T) {
	needNetns(t)
	ctx := context.Background()
	n, err := Setup(ctx, Config{Nodes: 3, Bandwidth: 20_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := ours(t); len(got) != 4 {
		t.Fatalf("namespaces after Setup: %v, want 3 nodes and a bridge", got)
	}
	for i := range n.Nodes() {
		ns := n.Namespace(i)
		addrs := run(t, "ip", "-n", ns, "-4", "addr", "show", "dev", "eth0")
		if !strings.Contains(addrs, n.Addr(i).String()+"/24") {
			t.Errorf("node %d: eth0 has %q, want %s/24", i, addrs, n.Addr(i))
		}
		if q := run(t, "ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", "eth0"); !strings.Contains(q, "tbf") || !strings.Contains(q, "20Mbit") {
			t.Errorf("node %d: eth0 qdisc %q, want tbf at 20Mbit", i, q)
		}
		// The only routes are the subnet's and multicast on the bridge:
		// nothing leads out.
		want := "198.18.0.0/24 dev eth0 proto kernel scope link src " + n.Addr(i).String() + "\n224.0.0.0/4 dev eth0 scope link"
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(run(t, "ip", "-n", ns, "-4", "route", "show")), "\n") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		if routes := strings.Join(lines, "\n"); routes != want {
			t.Errorf("node %d: routes %q, want only the subnet's and multicast's, %q", i, routes, want)
		}
	}
	// Close kills what runs in the namespaces.
	sleeper := n.Command(ctx, 2, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("a process in a namespace still runs after Close")
	}
	if got := ours(t); len(got) != 0 {
		t.Fatalf("namespaces left after Close: %v", got)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCleanupRemovesWhatADeadRunLeft(t *testing.T) {
	needNetns(t)
	// A pid above any pid_max: the run that made this is surely gone.
	stale := Prefix + "4999999-node0"
	run(t, "ip", "netns", "add", stale)
	defer exec.Command("ip", "netns", "del", stale).Run()
	sleeper := exec.Command("ip", "netns", "exec", stale, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()

	// A live run's namespaces stay.
	live, err := Setup(context.Background(), Config{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	removed, err := Cleanup()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(removed, stale) {
		t.Errorf("Cleanup removed %v, want %s among them", removed, stale)
	}
	for _, ns := range removed {
		if strings.HasPrefix(ns, Prefix+strconv.Itoa(os.Getpid())+"-") {
			t.Errorf("Cleanup removed %s of a live run", ns)
		}
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the process in the stale namespace still runs")
	}
	if got := ours(t); len(got) != 2 {
		t.Errorf("live run's namespaces after Cleanup: %v, want its 2", got)
	}
}
