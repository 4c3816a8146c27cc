package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ordersync/ordersync/lab/internal/netsim"
	"github.com/ordersync/ordersync/testing/proctest"
)

// needNetns skips a test where network namespaces cannot be made; CI
// runs as root, where they can.
func needNetns(t *testing.T) {
	t.Helper()
	if err := netsim.Available(); err != nil {
		t.Skip(err)
	}
}

// netsimCommand is a netsim process whose every descendant carries a
// token in its environment, so that the test can look for leftovers.
func netsimCommand(bin string, args ...string) (*exec.Cmd, string) {
	raw := make([]byte, 8)
	_, _ = rand.Read(raw)
	token := "ORDERSYNC_NETSIM_TEST=" + hex.EncodeToString(raw)
	cmd := proctest.Command(bin, append([]string{"netsim"}, args...)...)
	cmd.Env = append(os.Environ(), token)
	return cmd, token
}

// checkNothingLeft fails the test if a namespace of the netsim process
// pid, or a process with the run's token, remains.
func checkNothingLeft(t *testing.T, pid int, token string) {
	t.Helper()
	all, err := netsim.Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range all {
		if strings.HasPrefix(ns, netsim.Prefix+strconv.Itoa(pid)+"-") {
			t.Errorf("namespace %s left behind", ns)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, env := range procs {
		raw, err := os.ReadFile(env)
		if err == nil && bytes.Contains(raw, []byte(token)) {
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(env), "cmdline"))
			t.Errorf("process %s left behind: %s", filepath.Dir(env), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
}

var netsimClosing = regexp.MustCompile(`(?m)^netsim: 3/3 nodes hold all 900 orders after [0-9.]+s, [0-9.]+× the limit of [0-9.]+s: verifying 1620 missing orders at [0-9]+/s on [0-9]+ cores [0-9.]+s, links [0-9.]+s, \+ diameter [12] × rtt 20ms; ` +
	`bytes in per node \(its link\): median [0-9.]+ MB for [0-9.]+ MB of orders it lacked, [0-9.]+× \(per node [0-9.]+× to [0-9.]+×\)$`)

// TestNetsimConvergesThroughChurnAndCleansUp runs a small network with one
// node restarted halfway: every node ends with every order, the report
// and the plot are there, and nothing of the run is left.
func TestNetsimConvergesThroughChurnAndCleansUp(t *testing.T) {
	needNetns(t)
	dir := t.TempDir()
	bin := buildLab(t, dir)
	plot := filepath.Join(dir, "run.svg")
	cmd, token := netsimCommand(bin, "--nodes", "3", "--orders", "300", "--overlap", "0.2",
		"--rtt", "20ms", "--bandwidth", "20mbit", "--interval", "1s",
		"--churn", "1", "--churn-every", "2s", "--deadline", "50s", "--plot", plot)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Fatalf("netsim: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	checkNothingLeft(t, cmd.Process.Pid, token)
	if !netsimClosing.MatchString(stdout.String()) {
		t.Errorf("no closing line like %q in:\n%s", netsimClosing, stdout.String())
	}
	proctest.MustContain(t, "netsim's stderr", stderr.String(), "churn: killing node")
	svg, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("orders held")) {
		t.Errorf("--plot wrote %d bytes that are not the run's SVG", len(svg))
	}
}

// TestNetsimInterruptedCleansUp sends SIGINT while the nodes run: netsim
// fails, and leaves no namespace and no process.
func TestNetsimInterruptedCleansUp(t *testing.T) {
	needNetns(t)
	dir := t.TempDir()
	bin := buildLab(t, dir)
	cmd, token := netsimCommand(bin, "--nodes", "3", "--orders", "3000", "--rtt", "50ms",
		"--bandwidth", "1mbit", "--deadline", "2m")
	p := proctest.Start(t, cmd)
	// A node's line on stderr: the nodes run.
	p.Stderr.WaitFor(t, "node0: node:")
	code := p.Signal(t, syscall.SIGINT)
	if code == 0 {
		t.Errorf("netsim exited 0 when interrupted")
	}
	proctest.MustContain(t, "netsim's stderr", p.Stderr.String(), "interrupted")
	checkNothingLeft(t, cmd.Process.Pid, token)
}

// TestNetsimMDNS runs nodes without bootstrap peers: they find each other
// with mDNS, by multicast that stays on the emulated bridge.
func TestNetsimMDNS(t *testing.T) {
	needNetns(t)
	dir := t.TempDir()
	bin := buildLab(t, dir)
	// --min-peers 1: a node's start-up sync ends with the first peer mDNS
	// finds, and the periodic rounds bring the rest, so the run does not
	// depend on every pair of nodes finding each other at start-up.
	cmd, token := netsimCommand(bin, "--nodes", "3", "--orders", "100", "--rtt", "10ms",
		"--interval", "1s", "--min-peers", "1", "--bootstrap", "0", "--mdns", "--deadline", "50s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("netsim: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	checkNothingLeft(t, cmd.Process.Pid, token)
	proctest.MustContain(t, "netsim's report", stdout.String(), "netsim: 3/3 nodes hold all 300 orders")
}
