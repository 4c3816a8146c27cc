package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/zeroex"
)

// smallDemo is the demo at a size a test can afford.
func smallDemo() demoConfig {
	cfg := defaultDemoConfig()
	cfg.nodes = 4
	cfg.orders = 500
	cfg.perPage = 100
	return cfg
}

func runSmallDemo(t *testing.T, cfg demoConfig) (*demoResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var progress bytes.Buffer
	res, err := runDemoNetwork(ctx, cfg, &progress, false)
	if err != nil {
		t.Fatalf("runDemoNetwork: %v", err)
	}
	return res, progress.String()
}

func TestDemoRequestersEndWithTheUnion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		subs   []string
		agreed string
	}{
		{"preferred", []string{filteredpagination.Name, ordinal.Name}, "v1 (order-hash cursor)"},
		{"page numbers only", []string{ordinal.Name}, "v0 (page numbers)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallDemo()
			cfg.subprotocols = tc.subs
			res, progress := runSmallDemo(t, cfg)

			// 500 orders each, a quarter shared: 875 distinct.
			if got, want := len(res.union), 875; got != want {
				t.Fatalf("union has %d orders, want %d", got, want)
			}
			if err := res.check(context.Background()); err != nil {
				t.Fatalf("check: %v", err)
			}
			if len(res.requesters) != 2 {
				t.Fatalf("%d requesters, want 2", len(res.requesters))
			}
			for _, r := range res.requesters {
				c := r.Counts()
				// Both providers, both rounds: every order of each, twice.
				if c.OrdersReceived != 4*500 || c.OrdersAccepted != 4*500 || c.OrdersNew != 875 {
					t.Errorf("%s: received %d, accepted %d, new %d; want 2000, 2000, 875", r.Name, c.OrdersReceived, c.OrdersAccepted, c.OrdersNew)
				}
				// Four syncs of 500 orders: well over 400 bytes an order.
				if got := r.BytesIn(); got < 4*500*400 {
					t.Errorf("%s: read %d bytes, too few for 2000 orders", r.Name, got)
				}
			}
			if !strings.Contains(progress, "held (final): node-3 875/875 (100%, done) node-4 875/875 (100%, done)") {
				t.Errorf("progress does not end with both requesters done:\n%s", progress)
			}
			var table bytes.Buffer
			res.writeTable(&table)
			for _, want := range []string{"node-1", "provider", "node-4", "requester", tc.agreed, "ok"} {
				if !strings.Contains(table.String(), want) {
					t.Errorf("table lacks %q:\n%s", want, table.String())
				}
			}
		})
	}
}

func TestDemoCheckCatchesAMissingOrder(t *testing.T) {
	res, _ := runSmallDemo(t, smallDemo())
	ctx := context.Background()
	victim := res.requesters[1]
	var first common.Hash
	if err := victim.Store.Each(ctx, func(h common.Hash, _ *zeroex.SignedOrder) bool {
		first = h
		return false
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := victim.Store.Remove(ctx, first); n != 1 || err != nil {
		t.Fatalf("Remove: %d, %v", n, err)
	}
	err := res.check(ctx)
	if err == nil {
		t.Fatal("check passed with an order missing")
	}
	for _, want := range []string{victim.Name, "874 of the providers' 875", "1 missing", first.Hex()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), res.requesters[0].Name) {
		t.Errorf("error %q blames the good requester too", err)
	}
}

func TestCheckHoldsExactlyCatchesExtraOrders(t *testing.T) {
	ctx := context.Background()
	a, b := ordergen.Overlapping(ordergen.Options{Seed: 7, Makers: 2}, 20, 5)
	want, err := unionOf(a)
	if err != nil {
		t.Fatal(err)
	}
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := checkHoldsExactly(ctx, store, want); err != nil {
		t.Fatalf("store with exactly the orders: %v", err)
	}
	// b has 15 orders a has not.
	if _, err := store.AddOrders(ctx, b); err != nil {
		t.Fatal(err)
	}
	err = checkHoldsExactly(ctx, store, want)
	if err == nil || !strings.Contains(err.Error(), "15 not held by any provider") {
		t.Fatalf("store with extra orders: got %v", err)
	}
	if err := checkHoldsExactly(ctx, orderstore.NewMemory(), want); err == nil || !strings.Contains(err.Error(), "20 missing") {
		t.Fatalf("empty store: got %v", err)
	}
}

func TestDemoFlags(t *testing.T) {
	cfg, err := parseDemoFlags([]string{"--nodes", "6", "--orders", "300", "--per-page", "50", "--subprotocols", "v0, /pagination-with-filter/version/1", "--seed", "9"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.nodes != 6 || cfg.orders != 300 || cfg.perPage != 50 || cfg.seed != 9 ||
		strings.Join(cfg.subprotocols, " ") != ordinal.Name+" "+filteredpagination.Name {
		t.Errorf("parsed %+v", cfg)
	}
	for _, args := range [][]string{
		{"--nodes", "2"},
		{"--orders", "0"},
		{"--per-page", "5001"},
		{"--subprotocols", "v2"},
		{"--subprotocols", "v1,filteredpagination"},
		{"--subprotocols", ","},
		{"extra"},
		{"--bogus"},
	} {
		_, err := parseDemoFlags(args, new(bytes.Buffer))
		if err == nil || !cli.IsUsageError(err) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
	if _, err := parseDemoFlags([]string{"-h"}, new(bytes.Buffer)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: got %v", err)
	}
}
