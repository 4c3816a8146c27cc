package main

import (
	"strings"
	"testing"
	"time"
)

// The issue's own figures: 16 nodes each lacking 44 400 orders (42 MB),
// verified at 34 000 orders/s on 2 cores, over 50 Mbit/s links, diameter 3
// at 100 ms.
func TestRunLimitIsTheSlowerOfVerificationAndLinksPlusDiameter(t *testing.T) {
	l := runLimit{lackedOrders: 16 * 44_400, verifyRate: 34_000, cores: 2, maxLacked: 42_000_000, bandwidth: 50_000_000, diameter: 3, rtt: 100 * time.Millisecond}
	if got, want := l.verify().Seconds(), 710_400.0/34_000; !near(got, want) {
		t.Errorf("verify: %.3fs, want %.3fs", got, want)
	}
	if got, want := l.links().Seconds(), 42e6*8/50e6; !near(got, want) {
		t.Errorf("links: %.3fs, want %.3fs", got, want)
	}
	if got, want := l.total().Seconds(), 710_400.0/34_000+0.3; !near(got, want) {
		t.Errorf("total: %.3fs, want %.3fs", got, want)
	}
	// A slow link makes the links the limit.
	l.bandwidth = 5_000_000
	if got, want := l.total().Seconds(), 42e6*8/5e6+0.3; !near(got, want) {
		t.Errorf("total over 5 Mbit/s: %.3fs, want %.3fs", got, want)
	}
	// Unshaped links and an unknown rate leave the round trips.
	l = runLimit{lackedOrders: 10, diameter: 2, rtt: 50 * time.Millisecond}
	if got := l.total(); got != 100*time.Millisecond {
		t.Errorf("total with no rate and unshaped links: %v, want 100ms", got)
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestDiameter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		peers [][]int
		want  int
	}{
		{"pair", [][]int{{1}, {}}, 1},
		{"line of 4, dialled one way", [][]int{{1}, {2}, {3}, {}}, 3},
		{"ring of 5", [][]int{{1}, {2}, {3}, {4}, {0}}, 2},
		{"star", [][]int{{}, {0}, {0}, {0}}, 2},
		{"two islands", [][]int{{1}, {}, {3}, {}}, -1},
	} {
		if got := diameter(tc.peers); got != tc.want {
			t.Errorf("%s: diameter %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestConvergenceLine(t *testing.T) {
	s := convergenceSummary{
		complete: 3, nodes: 4, union: 48000, elapsed: 42600 * time.Millisecond,
		limit:  runLimit{lackedOrders: 120_000, verifyRate: 40_000, cores: 2, maxLacked: 40_000_000, bandwidth: 50_000_000, diameter: 3, rtt: 100 * time.Millisecond},
		in:     []int64{70e6, 66e6, 80e6, 0},
		lacked: []int64{40e6, 40e6, 40e6, 0},
	}
	want := "netsim: 3/4 nodes hold all 48000 orders after 42.6s, 6.36× the limit of 6.7s: verifying 120000 missing orders at 40000/s on 2 cores 3.0s, links 6.4s, + diameter 3 × rtt 100ms; " +
		"bytes in per node (its link): median 68.0 MB for 40.0 MB of orders it lacked, 1.75× (per node 1.65× to 2.00×)"
	if got := s.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWorkloadLine(t *testing.T) {
	reach := make([]time.Duration, 0, 100)
	for k := range 100 {
		reach = append(reach, time.Duration(k+1)*10*time.Millisecond) // 0.01 s to 1.00 s
	}
	s := workloadSummary{added: 1200, rate: 20, duration: time.Minute, reach: reach, perOrder: 1.234, idle: 812.4, expired: 2}
	want := "netsim workload: 1200 orders added at 20/s over 1m0s; reached every node: p50 0.50 s, p99 0.99 s; bytes in per node per new order: 1.23× its size; idle: 812 B/s per node; expired orders left anywhere: 2"
	if got := s.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	s = workloadSummary{added: 3, rate: 2.5, duration: 1200 * time.Millisecond}
	if got := s.String(); !strings.Contains(got, "3 orders added at 2.5/s over 1.2s; reached every node: p50 0.00 s, p99 0.00 s;") {
		t.Errorf("no orders reached: %s", got)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	sorted := []time.Duration{1, 2, 3, 4}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.25, 1}, {0.5, 2}, {0.51, 3}, {0.99, 4}, {1, 4}} {
		if got := percentile(sorted, tc.p); got != tc.want {
			t.Errorf("p%v: %v, want %v", tc.p*100, got, tc.want)
		}
	}
}
