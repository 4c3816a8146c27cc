package main

import (
	"fmt"
	"io"
	"time"

	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// printSyncSummary writes what a sync did: first one line with the totals
// (scripts and tests read it), then rejections, one line per peer, and the
// output file.
func printSyncSummary(w io.Writer, res *syncOutcome, elapsed time.Duration, written int, outPath string) {
	c := res.counts
	fmt.Fprintf(w, "sync: accepted %d orders (%d new) from %d of %d peers in %v (%.0f orders/s), %d bytes received\n",
		c.Accepted, c.New, res.synced(), len(res.peers), elapsed.Round(time.Millisecond), perSecond(c.Accepted, elapsed), res.stats.BytesRead)
	dropped := rejectedByReason(c)
	fmt.Fprintf(w, "sync: rejected %d orders: %s\n", dropped.Total(), dropped)
	for _, ai := range res.peers {
		ps, ok := res.stats.Providers[ai.ID]
		if !ok {
			fmt.Fprintf(w, "sync: peer %s: no sync\n", ai.ID)
			continue
		}
		status := "ok"
		if ps.LastError != "" {
			status = flatten(ps.LastError)
		}
		fmt.Fprintf(w, "sync: peer %s: %s, %d pages, %d orders, %d bytes: %s\n",
			ai.ID, ps.Subprotocol, ps.Pages, ps.Orders, ps.BytesReceived, status)
	}
	fmt.Fprintf(w, "sync: wrote %d orders to %s\n", written, outPath)
}

// synced counts the peers whose last sync ended well, with orders: the
// ones GetOrders counts towards --min-peers.
func (r *syncOutcome) synced() int {
	n := 0
	for _, ai := range r.peers {
		if ps, ok := r.stats.Providers[ai.ID]; ok && ps.LastError == "" && ps.Orders > 0 {
			n++
		}
	}
	return n
}

// rejectedByReason names the pipeline's drop counters.
func rejectedByReason(c pagination.Counts) rejections {
	r := rejections{}
	for _, x := range []struct {
		reason string
		n      uint64
	}{
		{"malformed", c.Malformed},
		{"out of range", c.OutOfRange},
		{"bad signature", c.BadSignature},
		{"unverifiable signature type", c.UnverifiableSignature},
		{"filter mismatch", c.FilterMismatch},
	} {
		if x.n > 0 {
			r[x.reason] = int(x.n)
		}
	}
	return r
}

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
