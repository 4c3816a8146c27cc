package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
)

// writeTable prints one row per node: what it holds, what it received and
// rejected, the subprotocol its syncs agreed on, the bytes and the time.
func (r *demoResult) writeTable(w io.Writer) {
	fmt.Fprintf(w, "\n%d nodes, %d orders per provider, %d in their union, %d per page, subprotocols %s, seed %d, %.1fs in all\n\n",
		r.cfg.nodes, r.cfg.orders, len(r.union), r.cfg.perPage, strings.Join(r.cfg.subprotocols, ","), r.cfg.seed, r.elapsed.Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\trole\theld\treceived\tnew\trejected\tsubprotocol\tbytes in\tout\tGetOrders\t+1 round in\tout\t+1 round\torders/s\tresult\t")
	for _, p := range r.providers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t\n", p.Name, p.role, p.Store.Len())
	}
	for _, p := range r.requesters {
		c := p.Counts()
		agreed := "-"
		if names := p.Agreed(); len(names) > 0 {
			short := make([]string, len(names))
			for i, n := range names {
				short[i] = cli.ShortSubprotocolName(n)
			}
			agreed = strings.Join(short, "+")
		}
		total := p.getOrders + p.round
		result := "ok"
		if p.err != nil {
			result = "FAILED"
		}
		st := p.Service.Stats()
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			p.Name, p.role, p.Store.Len(), c.OrdersReceived, c.OrdersNew, rejectedSummary(c), agreed,
			formatBytes(p.bytesGetOrders), formatBytes(p.sentGetOrders), cli.FormatDuration(p.getOrders),
			formatBytes(st.BytesRead-p.bytesGetOrders), formatBytes(st.BytesWritten-p.sentGetOrders), cli.FormatDuration(p.round),
			formatRate(float64(c.OrdersReceived), total), result)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, p := range r.providers {
		st := p.Service.Stats()
		fmt.Fprintf(w, "%s served %d requests and rejected %d streams (rate limit or stream cap)\n", p.Name, st.RequestsServed, st.StreamsRejected)
	}
	fmt.Fprintln(w, "\nreceived: orders the providers sent, both rounds; new: orders the store did not hold yet;")
	fmt.Fprintln(w, "bytes in, out: ordersync stream bytes received and sent by GetOrders, then by the periodic round after it")
	fmt.Fprintln(w, "(with reconcile, a round in sync costs the difference); orders/s: received over GetOrders + 1 round")
}

// rejectedSummary lists the reasons orders were dropped, "0" when none
// were.
func rejectedSummary(st ordersync.Stats) string {
	var parts []string
	for _, reason := range ordersync.RejectReasons() {
		if n := st.OrdersRejected[reason]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", reason, n))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

// formatBytes writes n in B, kB or MB (powers of 1000, like MB/s).
func formatBytes(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

func formatRate(n float64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", n/d.Seconds())
}
