package main

import (
	"fmt"
	"io"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
)

// printSyncSummary writes what a sync did: first one line with the totals
// (scripts and tests read it), then rejections, one line per peer, and the
// output file.
func printSyncSummary(w io.Writer, res *syncOutcome, elapsed time.Duration, written int, outPath string) {
	c := res.stats
	fmt.Fprintf(w, "sync: accepted %d orders (%d new) from %d of %d peers in %v (%.0f orders/s), %d bytes received, %d bytes sent\n",
		c.OrdersAccepted, c.OrdersNew, res.synced(), len(res.peers), elapsed.Round(time.Millisecond), perSecond(c.OrdersAccepted, elapsed), c.BytesRead, c.BytesWritten)
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
			status = cli.Flatten(ps.LastError)
		}
		fmt.Fprintf(w, "sync: peer %s: %s, %d pages, %d orders, %d bytes: %s\n",
			ai.ID, ps.Subprotocol, ps.Pages, ps.Orders, ps.BytesReceived, status)
	}
	if res.db != "" {
		fmt.Fprintf(w, "sync: %s holds %d orders\n", res.db, res.held)
	}
	if outPath != "" {
		fmt.Fprintf(w, "sync: wrote %d orders to %s\n", written, outPath)
	}
}

// synced counts the peers whose last sync ended well, with orders or in
// sync (reconcile showed the requester held them all): the ones GetOrders
// counts towards --min-peers.
func (r *syncOutcome) synced() int {
	n := 0
	for _, ai := range r.peers {
		if ps, ok := r.stats.Providers[ai.ID]; ok && ps.LastError == "" && ps.Pages > 0 {
			n++
		}
	}
	return n
}

// rejectNames are the summary's words for the reasons orders are dropped.
var rejectNames = map[ordersync.RejectReason]string{
	ordersync.RejectMalformed:             "malformed",
	ordersync.RejectOutOfRange:            "out of range",
	ordersync.RejectBadSignature:          "bad signature",
	ordersync.RejectUnverifiableSignature: "unverifiable signature type",
	ordersync.RejectFilterMismatch:        "filter mismatch",
	ordersync.RejectOther:                 "other",
}

// rejectedByReason names the counts of dropped orders.
func rejectedByReason(st ordersync.Stats) cli.Rejections {
	r := cli.Rejections{}
	for reason, n := range st.OrdersRejected {
		if n > 0 {
			r[rejectNames[reason]] += int(n)
		}
	}
	return r
}

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
