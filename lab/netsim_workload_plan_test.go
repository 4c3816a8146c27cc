package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
)

// TestWorkloadPlan checks the orders a workload sends: rate × duration of
// them, one every 1/rate, distinct, at nodes of the network, the expiring
// ones carrying an expiration expireAfter after their send time (rounded
// up to the second, as orders carry seconds), the others none within the
// run.
func TestWorkloadPlan(t *testing.T) {
	cfg := defaultNetsimConfig()
	cfg.nodes, cfg.workload, cfg.duration, cfg.expiring, cfg.expireAfter = 4, 10, 3*time.Second, 0.5, 5*time.Second
	w := &workload{cfg: cfg, orders: make(map[common.Hash]*workloadOrder)}
	start := time.Unix(1_900_000_000, 250_000_000)
	w.plan(start)
	if len(w.list) != 30 || len(w.orders) != 30 {
		t.Fatalf("%d orders (%d distinct), want 30", len(w.list), len(w.orders))
	}
	expiring := 0
	for k, o := range w.list {
		if want := start.Add(time.Duration(k) * 100 * time.Millisecond); !o.sent.Equal(want) {
			t.Errorf("order %d sent at %v, want %v", k, o.sent, want)
		}
		if o.origin < 0 || o.origin >= cfg.nodes || len(o.added) != cfg.nodes || o.size < 500 {
			t.Errorf("order %d: origin %d, %d nodes to reach, size %d", k, o.origin, len(o.added), o.size)
		}
		exp := orderstore.ExpirationOf(o.order)
		if o.expires.IsZero() {
			if exp < start.Add(24*time.Hour).Unix() {
				t.Errorf("order %d does not expire in the run but carries expiration %d", k, exp)
			}
			continue
		}
		expiring++
		if exp != o.expires.Unix() {
			t.Errorf("order %d expires at %v but carries %d", k, o.expires, exp)
		}
		if life := o.expires.Sub(o.sent); life <= cfg.expireAfter || life > cfg.expireAfter+time.Second {
			t.Errorf("order %d lives %v, want just over %v", k, life, cfg.expireAfter)
		}
		if o.lasting(o.expires) || !o.lasting(o.sent) {
			t.Errorf("order %d: lasting wrong around its expiry", k)
		}
	}
	if expiring < 5 || expiring > 25 {
		t.Errorf("%d of 30 orders expire, want about half", expiring)
	}
}

func TestNetsimWorkloadFlags(t *testing.T) {
	cfg, err := parseNetsimFlags([]string{"--workload", "20"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.orders != 0 || cfg.duration != time.Minute {
		t.Errorf("--workload alone: %d orders per node, duration %v; want empty nodes for 1m", cfg.orders, cfg.duration)
	}
	if cfg, err = parseNetsimFlags([]string{"--workload", "5", "--orders", "100"}, io.Discard); err != nil || cfg.orders != 100 {
		t.Errorf("--orders 100 with --workload: %d, %v", cfg.orders, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--orders", "0"}, "--orders 0: want 1"},
		{[]string{"--workload", "-1"}, "--workload -1"},
		{[]string{"--workload", "1", "--duration", "500ms"}, "--duration 500ms"},
		{[]string{"--workload", "1", "--expiring", "1.5"}, "--expiring 1.5"},
		{[]string{"--workload", "1", "--expire-after", "1s"}, "--expire-after 1s"},
		{[]string{"--workload", "1", "--baseline", "gossipsub", "--churn", "1"}, "without --orders, --mdns and --churn"},
		{[]string{"--baseline", "gossipsub"}, "only with --workload"},
		{[]string{"--workload", "1", "--baseline", "gossipsub", "--orders", "10"}, "only with --workload, without --orders"},
		{[]string{"--workload", "1", "--baseline", "floodsub"}, `--baseline "floodsub"`},
	} {
		_, err := parseNetsimFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}
