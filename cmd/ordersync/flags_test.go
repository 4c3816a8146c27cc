package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/zeroex"
)

func newPeerID(t *testing.T) peer.ID {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// runCLI runs the dispatch in-process, as main does.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStdout bool
	}{
		{name: "no command", args: nil, code: exitUsage, stderr: []string{"Usage:", "serve", "sync"}, noStdout: true},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderr: []string{`ordersync: unknown command "frobnicate"`, "Usage:"}, noStdout: true},
		{name: "help", args: []string{"help"}, code: exitOK, stdout: []string{"demo", "serve", "sync", "node", "gen", "help"}},
		{name: "help for a command", args: []string{"help", "sync"}, code: exitOK, stdout: []string{"Usage: ordersync sync", "-min-peers", "-log-level"}},
		{name: "help for an unknown command", args: []string{"help", "nope"}, code: exitUsage, stderr: []string{`unknown command "nope"`}},
		{name: "-h", args: []string{"serve", "-h"}, code: exitOK, stderr: []string{"Usage: ordersync serve", "-listen", "-orders", "-per-page", "-identity"}},
		{name: "unknown flag", args: []string{"serve", "--bogus"}, code: exitUsage, stderr: []string{"flag provided but not defined: -bogus"}},
		{name: "positional argument", args: []string{"serve", "--orders", "x", "extra"}, code: exitUsage, stderr: []string{`ordersync serve: unexpected argument "extra"`}},
		{name: "serve without orders", args: []string{"serve"}, code: exitUsage, stderr: []string{"ordersync serve: --orders or --db is required"}},
		{name: "serve bad db", args: []string{"serve", "--db", "mysql://x"}, code: exitFailure, stderr: []string{`database "mysql://x": want sqlite:PATH or a postgres:// URL`}},
		{name: "serve bad listen", args: []string{"serve", "--orders", "x", "--listen", "/ip4/nope"}, code: exitUsage, stderr: []string{`ordersync serve: --listen "/ip4/nope": bad multiaddr`}},
		{name: "serve bad per-page", args: []string{"serve", "--orders", "x", "--per-page", "0"}, code: exitUsage, stderr: []string{"--per-page 0"}},
		{name: "serve bad rate limit", args: []string{"serve", "--orders", "x", "--rate-limit", "-1"}, code: exitUsage, stderr: []string{"--rate-limit -1"}},
		{name: "serve bad log level", args: []string{"serve", "--orders", "x", "--log-level", "loud"}, code: exitUsage, stderr: []string{`--log-level "loud"`}},
		{name: "sync bad peer", args: []string{"sync", "--peer", "not-an-addr", "--out", "x"}, code: exitUsage, stderr: []string{`bad multiaddr "not-an-addr"`}},
		{name: "sync without peers", args: []string{"sync", "--out", "x"}, code: exitUsage, stderr: []string{"ordersync sync: at least one --peer is required"}},
		{name: "gen without out", args: []string{"gen"}, code: exitUsage, stderr: []string{"ordersync gen: --out is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout does not say %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if tc.noStdout && stdout != "" {
				t.Errorf("stdout should be empty, got:\n%s", stdout)
			}
		})
	}
}

func TestParseSyncFlags(t *testing.T) {
	a, b := newPeerID(t), newPeerID(t)
	addrA := "/ip4/127.0.0.1/tcp/4001/p2p/" + a.String()
	addrA2 := "/ip4/127.0.0.1/tcp/4002/p2p/" + a.String()
	addrB := "/ip4/127.0.0.1/tcp/4003/p2p/" + b.String()
	parse := func(args ...string) (*syncConfig, error) {
		return parseSyncFlags(args, io.Discard)
	}

	cfg, err := parse("--peer", addrA, "--peer", addrB, "--peer", addrA2, "--out", "o")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.peers) != 2 || len(cfg.peers[0].Addrs) != 2 || cfg.minPeers != 2 {
		t.Errorf("two addresses of one peer plus another: got %d peers (%v), min-peers %d; want 2 peers, min-peers 2", len(cfg.peers), cfg.peers, cfg.minPeers)
	}
	if !slices.Equal(cfg.subprotocols, []string{reconcile.Name, filteredpagination.Name, ordinal.Name}) {
		t.Errorf("default subprotocols %v", cfg.subprotocols)
	}
	if cfg.filter != nil {
		t.Error("no filter flag, but a filter was built")
	}

	cfg, err = parse("--peer", addrA, "--peer", addrB, "--out", "o", "--min-peers", "1", "--subprotocols", "ordinal, filtered-pagination")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.minPeers != 1 || !slices.Equal(cfg.subprotocols, []string{ordinal.Name, filteredpagination.Name}) {
		t.Errorf("got min-peers %d, subprotocols %v", cfg.minPeers, cfg.subprotocols)
	}

	cfg, err = parse("--peer", addrA, "--out", "o", "--subprotocols", "/pagination-with-filter/version/0")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.subprotocols, []string{ordinal.Name}) {
		t.Errorf("a wire name: got subprotocols %v, want [%s]", cfg.subprotocols, ordinal.Name)
	}

	// The exchange follows the chain: mainnet's, not the Ganache one.
	const mainnetExchange = "0x61935cbdd02287b511119ddb11aeb42f1593b7ef"
	cfg, err = parse("--peer", addrA, "--out", "o", "--chain-id", "1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.filter == nil || cfg.filter.ChainID() != 1 || strings.ToLower(cfg.filter.ExchangeAddress().Hex()) != mainnetExchange || cfg.filter.CustomOrderSchema() != "{}" {
		t.Errorf("--chain-id 1: filter %+v, want chain 1, mainnet's Exchange %s and the default schema", cfg.filter, mainnetExchange)
	}
	cfg, err = parse("--peer", addrA, "--out", "o", "--chain-id", "99", "--exchange", mainnetExchange)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.filter == nil || cfg.filter.ChainID() != 99 || strings.ToLower(cfg.filter.ExchangeAddress().Hex()) != mainnetExchange {
		t.Errorf("--chain-id 99 --exchange: filter %+v, want chain 99 with the exchange given", cfg.filter)
	}
	if _, err := parse("--peer", addrA, "--out", "o", "--chain-id", "99"); !cli.IsUsageError(err) || !strings.Contains(err.Error(), "--chain-id 99") || !strings.Contains(err.Error(), "--exchange") {
		t.Errorf("--chain-id 99 without --exchange: err %v, want a usage error naming the chain and --exchange", err)
	}

	cfg, err = parse("--peer", addrA, "--out", "o", "--filter-schema", `{"properties":{"makerAddress":{"const":"0x0000000000000000000000000000000000000001"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.filter == nil || cfg.filter.ChainID() != defaultChainID || cfg.filter.ExchangeAddress() != ordergen.DefaultExchange {
		t.Errorf("--filter-schema alone: filter %+v, want one on chain %d for its Exchange", cfg.filter, defaultChainID)
	}

	schemaFile := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(schemaFile, []byte(`{"properties":{"makerFee":{"const":"0"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = parse("--peer", addrA, "--out", "o", "--filter-schema", "@"+schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.filter == nil || !strings.Contains(cfg.filter.CustomOrderSchema(), "makerFee") {
		t.Errorf("--filter-schema @file: filter %+v, want the file's schema", cfg.filter)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--peer", addrA, "--out", "o", "--filter-schema", "@" + schemaFile + ".missing"}, "no such file"},
		{[]string{"--peer", addrA, "--out", "o", "--min-peers", "2"}, "--min-peers 2"},
		{[]string{"--peer", addrA, "--out", "o", "--min-peers", "-1"}, "--min-peers -1"},
		{[]string{"--peer", addrA, "--out", "o", "--subprotocols", "ordinal,v2"}, `unknown subprotocol "v2"`},
		{[]string{"--peer", addrA, "--out", "o", "--subprotocols", "ordinal,ordinal"}, "listed twice"},
		{[]string{"--peer", addrA, "--out", "o", "--subprotocols", "ordinal,/pagination-with-filter/version/0"}, "listed twice"},
		{[]string{"--peer", addrA, "--out", "o", "--subprotocols", ""}, "empty name"},
		{[]string{"--peer", addrA, "--out", "o", "--exchange", "0x12"}, `--exchange "0x12"`},
		{[]string{"--peer", addrA, "--out", "o", "--chain-id", "0"}, "--chain-id 0"},
		{[]string{"--peer", addrA, "--out", "o", "--filter-schema", "{not json"}, "--filter-schema"},
		{[]string{"--peer", addrA, "--out", "o", "--filter-schema", `{"type":12}`}, "--filter-schema"},
		{[]string{"--peer", addrA, "--out", "o", "--timeout", "-1s"}, "--timeout"},
		{[]string{"--peer", "/ip4/127.0.0.1/tcp/4001", "--out", "o"}, "/p2p/"},
		{[]string{"--peer", "/p2p/" + a.String(), "--out", "o"}, "no transport address"},
		{[]string{"--peer", addrA}, "--out or --db is required"},
	} {
		_, err := parse(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got error %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

func TestGen(t *testing.T) {
	out := filepath.Join(t.TempDir(), "gen.jsonl")
	code, stdout, stderr := runCLI("gen", "--count", "25", "--seed", "3", "--first", "5", "--makers", "2", "--out", out)
	if code != exitOK {
		t.Fatalf("gen exited %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote 25 orders to "+out) {
		t.Errorf("gen said %q", stdout)
	}
	got, err := cli.ReadOrderFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := ordergen.Generate(ordergen.Options{Seed: 3, First: 5, Count: 25, Makers: 2})
	if !slices.EqualFunc(got, want, (*zeroex.SignedOrder).Equal) {
		t.Errorf("gen wrote %d orders, not the %d generated ones", len(got), len(want))
	}

	// Another chain's orders are signed for its Exchange; an unknown
	// chain needs --exchange.
	code, _, stderr = runCLI("gen", "--count", "2", "--chain-id", "1", "--out", out)
	if code != exitOK {
		t.Fatalf("gen --chain-id 1 exited %d: %s", code, stderr)
	}
	if got, err = cli.ReadOrderFile(out); err != nil {
		t.Fatal(err)
	}
	for _, o := range got {
		if o.ChainID.Int64() != 1 || strings.ToLower(o.ExchangeAddress.Hex()) != "0x61935cbdd02287b511119ddb11aeb42f1593b7ef" {
			t.Errorf("gen --chain-id 1: order of chain %s for %s, want mainnet's Exchange", o.ChainID, o.ExchangeAddress.Hex())
		}
	}
	if code, _, stderr = runCLI("gen", "--count", "2", "--chain-id", "99", "--out", out); code != exitUsage || !strings.Contains(stderr, "chain 99") {
		t.Errorf("gen --chain-id 99: exit %d, stderr %q; want a usage error naming chain 99", code, stderr)
	}
}

// TestParseSubprotocols checks that sync and demo share one set of names:
// every name and alias, in any case, and the wire names.
func TestParseSubprotocols(t *testing.T) {
	for list, want := range map[string][]string{
		"filtered-pagination,ordinal":         {filteredpagination.Name, ordinal.Name},
		"v0, v1":                              {ordinal.Name, filteredpagination.Name},
		"FilteredPagination":                  {filteredpagination.Name},
		ordinal.Name + "," + "v1":             {ordinal.Name, filteredpagination.Name},
		"Ordinal, " + filteredpagination.Name: {ordinal.Name, filteredpagination.Name},
	} {
		got, err := cli.ParseSubprotocols(list)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: got %v, %v; want %v", list, got, err, want)
		}
		demo, err := parseDemoFlags([]string{"--subprotocols", list}, io.Discard)
		if err != nil || !slices.Equal(demo.subprotocols, want) {
			t.Errorf("demo --subprotocols %q: got %v, %v; want %v", list, demo.subprotocols, err, want)
		}
	}
	for _, list := range []string{"", "v1,", "v2", "v1,filtered-pagination", "ordinal,V0"} {
		if got, err := cli.ParseSubprotocols(list); err == nil {
			t.Errorf("%q: got %v, want an error", list, got)
		}
	}
}
