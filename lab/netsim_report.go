package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/ordersync/ordersync/lab/internal/netsim"
)

// planLimit measures this machine's verification rate and puts the run's
// limit together.
func planLimit(cfg netsimConfig, nodes []*simNode, plan netsimPlan) (runLimit, error) {
	l := runLimit{bandwidth: cfg.bandwidth, diameter: plan.diameter, rtt: cfg.rtt}
	for _, n := range nodes {
		l.lackedOrders += int64(n.lackedOrders)
		l.maxLacked = max(l.maxLacked, n.lackedBytes)
	}
	if len(plan.sample) == 0 {
		return l, nil
	}
	var err error
	l.verifyRate, l.cores, err = measureVerifyRate(plan.sample, 3)
	return l, err
}

// readCounters reads every node's link counters.
func readCounters(net *netsim.Net) ([]netsim.LinkCounters, error) {
	out := make([]netsim.LinkCounters, net.Nodes())
	for i := range out {
		var err error
		if out[i], err = net.Counters(i); err != nil {
			return nil, fmt.Errorf("node %d's link counters: %w", i, err)
		}
	}
	return out, nil
}

// convergenceSummary is what netsim's closing line reports.
type convergenceSummary struct {
	complete, nodes, union int
	elapsed                time.Duration
	limit                  runLimit
	// Per node: bytes its link received, bytes of the orders it lacked.
	in, lacked []int64
}

// String is the closing line:
//
//	netsim: 16/16 nodes hold all 48000 orders after 85.2s, 4.01× the limit of 21.3s: ...; bytes in per node (its link): median 70.1 MB for 42.0 MB of orders it lacked, 1.67× (per node 1.60× to 1.75×)
func (s convergenceSummary) String() string {
	ratios := make([]float64, 0, len(s.in))
	for i := range s.in {
		if s.lacked[i] > 0 {
			ratios = append(ratios, float64(s.in[i])/float64(s.lacked[i]))
		}
	}
	slices.Sort(ratios)
	timing := fmt.Sprintf("after %.1fs", s.elapsed.Seconds())
	if l := s.limit.total(); l > 0 {
		timing += fmt.Sprintf(", %.2f× the limit of %v", s.elapsed.Seconds()/l.Seconds(), s.limit)
	}
	bytesIn := fmt.Sprintf("bytes in per node (its link): median %s", formatMB(medianOf(s.in)))
	if len(ratios) > 0 {
		bytesIn += fmt.Sprintf(" for %s of orders it lacked, %.2f× (per node %.2f× to %.2f×)",
			formatMB(medianOf(s.lacked)), medianFloat(ratios), ratios[0], ratios[len(ratios)-1])
	}
	return fmt.Sprintf("netsim: %d/%d nodes hold all %d orders %s; %s", s.complete, s.nodes, s.union, timing, bytesIn)
}

// formatRatio writes a/b as "1.67×", or "-" when b is 0.
func formatRatio(a, b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// medianOf returns the median of values, which it does not change.
func medianOf(values []int64) int64 {
	if len(values) == 0 {
		return 0
	}
	return median(slices.Sorted(slices.Values(values)))
}

// medianFloat returns the median of sorted.
func medianFloat(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
