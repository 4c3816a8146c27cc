package main

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/ordersync/ordersync/zeroex"
)

// runLimit is the fastest a run could converge on this machine: every
// node must verify (hash and signature) each order it lacks, and the
// nodes share this machine's cores; every node must read the orders it
// lacks through its link, the links in parallel; and news needs diameter
// hops of one round trip each to cross the network. Verification is
// counted because no design avoids it; what a protocol adds (requests,
// sketches, duplicates) is what the ratio to the limit shows.
type runLimit struct {
	lackedOrders int64         // summed over the nodes
	verifyRate   float64       // orders/s this machine verifies on all its cores
	cores        int           // the cores verifyRate used
	maxLacked    int64         // bytes of orders the neediest node lacked
	bandwidth    int64         // bit/s of every link; 0 unshaped
	diameter     int           // hops between the farthest two nodes
	rtt          time.Duration // of every connection
}

// verify is the time the machine needs to verify every missing order.
func (l runLimit) verify() time.Duration {
	if l.verifyRate <= 0 {
		return 0
	}
	return time.Duration(float64(l.lackedOrders) / l.verifyRate * float64(time.Second))
}

// links is the time the neediest node's link needs to carry the orders it
// lacks (0 when links are unshaped).
func (l runLimit) links() time.Duration {
	if l.bandwidth <= 0 {
		return 0
	}
	return time.Duration(float64(l.maxLacked) * 8 / float64(l.bandwidth) * float64(time.Second))
}

// total is the slower of verification and the links, plus diameter round
// trips.
func (l runLimit) total() time.Duration {
	return max(l.verify(), l.links()) + time.Duration(l.diameter)*l.rtt
}

// String says how total came about.
func (l runLimit) String() string {
	return fmt.Sprintf("%.1fs: verifying %d missing orders at %.0f/s on %d cores %.1fs, links %.1fs, + diameter %d × rtt %v",
		l.total().Seconds(), l.lackedOrders, l.verifyRate, l.cores, l.verify().Seconds(), l.links().Seconds(), l.diameter, l.rtt)
}

// measureVerifyRate measures, as the bench does, how many orders a second
// this machine hashes and verifies on all its cores: the median of runs
// over fresh copies of sample.
func measureVerifyRate(sample []*zeroex.SignedOrder, runs int) (float64, int, error) {
	fresh := make([][]*zeroex.SignedOrder, runs)
	for r := range fresh {
		var err error
		if fresh[r], err = freshCopies(sample); err != nil {
			return 0, 0, err
		}
	}
	rates := make([]float64, 0, runs)
	for _, f := range fresh {
		elapsed, err := measureVerify(f)
		if err != nil {
			return 0, 0, err
		}
		rates = append(rates, float64(len(f))/elapsed.Seconds())
	}
	slices.Sort(rates)
	return rates[len(rates)/2], runtime.GOMAXPROCS(0), nil
}

// diameter is the most hops between two nodes of the undirected graph of
// the peer lists (nodes dial their lists; connections go both ways); -1
// if it is not connected.
func diameter(peers [][]int) int {
	adj := make([][]int, len(peers))
	for i, ps := range peers {
		for _, p := range ps {
			adj[i] = append(adj[i], p)
			adj[p] = append(adj[p], i)
		}
	}
	most := 0
	dist := make([]int, len(peers))
	for from := range peers {
		for i := range dist {
			dist[i] = -1
		}
		dist[from] = 0
		queue := []int{from}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, p := range adj[i] {
				if dist[p] < 0 {
					dist[p] = dist[i] + 1
					most = max(most, dist[p])
					queue = append(queue, p)
				}
			}
		}
		if slices.Contains(dist, -1) {
			return -1
		}
	}
	return most
}

// orderSize is an order's size as the protocol carries it: its JSON.
func orderSize(o *zeroex.SignedOrder) int64 {
	b, err := o.AppendJSON(nil)
	if err != nil {
		return 0
	}
	return int64(len(b))
}
