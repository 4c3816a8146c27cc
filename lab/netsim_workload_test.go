package main

import (
	"bytes"
	"regexp"
	"syscall"
	"testing"

	"github.com/ordersync/ordersync/testing/proctest"
)

// workloadLine is the workload's closing line of a run of 3 × 5 = 15
// orders.
var workloadLine = regexp.MustCompile(`(?m)^netsim workload: 15 orders added at 3/s over 5s; reached every node: p50 [0-9.]+ s, p99 [0-9.]+ s; bytes in per node per new order: [0-9.]+× its size; idle: [0-9]+ B/s per node; expired orders left anywhere: 0$`)

// TestNetsimWorkload drives 3 nodes with new orders through their APIs,
// some expiring during the run, for ordersync's nodes and for the
// GossipSub baseline's: every order reaches every node, none is left past
// its expiry, the closing line is the issue's, and nothing of the run is
// left.
func TestNetsimWorkload(t *testing.T) {
	needNetns(t)
	dir := t.TempDir()
	bin := buildLab(t, dir)
	for _, baseline := range []string{"", baselineGossipSub} {
		name := "ordersync"
		if baseline != "" {
			name = baseline
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"--nodes", "3", "--workload", "3", "--duration", "5s",
				"--expiring", "0.3", "--expire-after", "3s", "--idle", "2s",
				"--rtt", "20ms", "--bandwidth", "20mbit", "--interval", "1s", "--deadline", "60s"}
			if baseline != "" {
				args = append(args, "--baseline", baseline)
			}
			cmd, token := netsimCommand(bin, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("netsim: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			checkNothingLeft(t, cmd.Process.Pid, token)
			if !workloadLine.MatchString(stdout.String()) {
				t.Errorf("no closing line like %q in:\n%s\nstderr:\n%s", workloadLine, stdout.String(), stderr.String())
			}
		})
	}
}

// TestNetsimWorkloadInterruptedCleansUp sends SIGINT while the workload
// adds orders: netsim fails and leaves no namespace and no process.
func TestNetsimWorkloadInterruptedCleansUp(t *testing.T) {
	needNetns(t)
	dir := t.TempDir()
	bin := buildLab(t, dir)
	cmd, token := netsimCommand(bin, "--nodes", "3", "--workload", "5", "--duration", "2m",
		"--rtt", "20ms", "--interval", "1s", "--deadline", "3m")
	p := proctest.Start(t, cmd)
	p.Stderr.WaitFor(t, "netsim: workload: ")
	if code := p.Signal(t, syscall.SIGINT); code == 0 {
		t.Errorf("netsim exited 0 when interrupted")
	}
	checkNothingLeft(t, cmd.Process.Pid, token)
}
