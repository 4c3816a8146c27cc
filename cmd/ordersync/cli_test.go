package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/proctest"
	"github.com/ordersync/ordersync/zeroex"
)

// cliResult is a finished process.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runBinary runs the binary to completion.
func runBinary(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := proctest.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(proctest.Timeout, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("%s: %v", args, err)
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// server is a running "ordersync serve".
type server struct {
	cmd    *exec.Cmd
	addrs  []string
	stderr bytes.Buffer // read only after stop
}

// startServer runs serve and waits for the address lines on its stdout.
func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	s := &server{cmd: proctest.Command(bin, append([]string{"serve"}, args...)...)}
	s.cmd.Stderr = &s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			s.cmd.Wait()
			t.Fatalf("serve printed no address and exited: %s", s.stderr.String())
		}
		s.addrs = append(s.addrs, line)
	case <-time.After(proctest.Timeout):
		t.Fatal("serve printed no address")
	}
	// Further lines (other addresses) are drained so serve never blocks.
	go func() {
		for range lines {
		}
	}()
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(proctest.Timeout, func() { s.cmd.Process.Kill() })
	defer timer.Stop()
	s.cmd.Wait()
	return s.cmd.ProcessState.ExitCode()
}

func orderHashes(t *testing.T, orders []*zeroex.SignedOrder) []common.Hash {
	t.Helper()
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		hashes[i] = h
	}
	slices.SortFunc(hashes, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
	return hashes
}

// TestCLI runs serve and sync as processes, as a user would.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	dir := t.TempDir()
	bin := buildCLI(t, dir)

	// 300 good orders and one whose salt changed after signing, so that
	// its signature is by a key that is not the maker's.
	valid := ordergen.Generate(ordergen.Options{Seed: 42, Count: 300})
	bad := ordergen.Generate(ordergen.Options{Seed: 42, First: 300, Count: 1})[0]
	bad.Salt.Add(bad.Salt, common.Big1)
	bad.ResetHash()
	all := append(slices.Clone(valid[:150]), bad)
	all = append(all, valid[150:]...)
	ordersPath := filepath.Join(dir, "orders.jsonl")
	if _, err := cli.WriteOrderFile(ordersPath, slices.Values(all)); err != nil {
		t.Fatal(err)
	}
	wantHashes := orderHashes(t, valid)

	// Small pages so that the sync takes several requests.
	srv := startServer(t, bin, "--orders", ordersPath, "--per-page", "40")
	addr := srv.addrs[0]
	if !strings.HasPrefix(addr, "/ip4/127.0.0.1/tcp/") || !strings.Contains(addr, "/p2p/12D3KooW") {
		t.Fatalf("serve's address line %q is not a full /ip4/127.0.0.1/tcp/N/p2p/ID address", addr)
	}

	for _, tc := range []struct {
		name, subprotocols, want string
	}{
		{"default preference", "", "/reconcile-riblt/version/1, "},
		{"v1 preferred", "filtered-pagination,ordinal", "/pagination-with-filter/version/1, "},
		{"ordinal preferred", "ordinal,filtered-pagination", "/pagination-with-filter/version/0, "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outPath := filepath.Join(t.TempDir(), "got.jsonl")
			args := []string{"sync", "--peer", addr, "--out", outPath}
			if tc.subprotocols != "" {
				args = append(args, "--subprotocols", tc.subprotocols)
			}
			res := runBinary(t, bin, args...)
			if res.code != 0 {
				t.Fatalf("sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
			}
			firstLine, _, _ := strings.Cut(res.stdout, "\n")
			proctest.MustContain(t, "sync's summary line", firstLine, "sync: accepted 300 orders (300 new) from 1 of 1 peers in ", " orders/s), ", " bytes received, ")
			if !strings.HasSuffix(firstLine, " bytes sent") {
				t.Errorf("sync's summary line %q does not end with the bytes sent", firstLine)
			}
			proctest.MustContain(t, "sync's summary", res.stdout, "sync: rejected 0 orders: none", tc.want, " pages, 300 orders, ", "sync: wrote 300 orders to "+outPath)

			got, err := cli.ReadOrderFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if gotHashes := orderHashes(t, got); !slices.Equal(gotHashes, wantHashes) {
				t.Fatalf("out file holds %d orders, not exactly the %d valid ones", len(got), len(valid))
			}
		})
	}

	t.Run("out to a pipe", func(t *testing.T) {
		// An output that is not a regular file (a named pipe here,
		// /dev/null for a measurement) is written in place: renaming a
		// temporary file over it would replace it with a regular file.
		outPath := filepath.Join(t.TempDir(), "pipe")
		if err := syscall.Mkfifo(outPath, 0o600); err != nil {
			t.Skip("no named pipes here: ", err)
		}
		read := make(chan []byte, 1)
		go func() {
			b, _ := os.ReadFile(outPath) // until sync closes its end
			read <- b
		}()
		res := runBinary(t, bin, "sync", "--peer", addr, "--out", outPath)
		if res.code != 0 {
			t.Fatalf("sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
		}
		if fi, err := os.Lstat(outPath); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			// The reader waits on the pipe that is gone: leave it.
			t.Fatalf("after sync --out, %s is %v (%v), want the named pipe still", outPath, fi.Mode(), err)
		}
		if lines := bytes.Count(<-read, []byte("\n")); lines != len(valid) {
			t.Errorf("read %d lines from the pipe, want the %d valid orders", lines, len(valid))
		}
	})

	t.Run("update", func(t *testing.T) {
		// A snapshot of 250 of the orders, refreshed: only the 50 missing
		// travel, and the file ends with the union.
		outPath := filepath.Join(t.TempDir(), "snapshot.jsonl")
		if _, err := cli.WriteOrderFile(outPath, slices.Values(valid[:250])); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"sync: accepted 50 orders (50 new) from 1 of 1 peers in ", "sync: accepted 0 orders (0 new) from 1 of 1 peers in "} {
			res := runBinary(t, bin, "sync", "--update", "--peer", addr, "--out", outPath)
			if res.code != 0 {
				t.Fatalf("sync --update exited %d:\n%s%s", res.code, res.stdout, res.stderr)
			}
			proctest.MustContain(t, "sync --update's summary", res.stdout, want, "/reconcile-riblt/version/1, ", "sync: wrote 300 orders to "+outPath)
			got, err := cli.ReadOrderFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if gotHashes := orderHashes(t, got); !slices.Equal(gotHashes, wantHashes) {
				t.Fatalf("updated file holds %d orders, want the %d valid ones", len(got), len(valid))
			}
		}
	})

	t.Run("two peers", func(t *testing.T) {
		// The second peer holds orders 200 to 399 of the same stream: 100
		// shared with the first, 100 of its own, in a JSON array file.
		more := ordergen.Generate(ordergen.Options{Seed: 42, First: 200, Count: 200})
		var lines bytes.Buffer
		if _, err := cli.WriteOrders(&lines, slices.Values(more)); err != nil {
			t.Fatal(err)
		}
		array := "[\n" + strings.ReplaceAll(strings.TrimSpace(lines.String()), "\n", ",\n") + "\n]\n"
		morePath := filepath.Join(t.TempDir(), "more.json")
		if err := os.WriteFile(morePath, []byte(array), 0o644); err != nil {
			t.Fatal(err)
		}
		srv2 := startServer(t, bin, "--orders", morePath)
		defer srv2.stop(t)

		outPath := filepath.Join(t.TempDir(), "got.jsonl")
		res := runBinary(t, bin, "sync", "--peer", addr, "--peer", srv2.addrs[0], "--out", outPath)
		if res.code != 0 {
			t.Fatalf("sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
		}
		proctest.MustContain(t, "sync's summary", res.stdout, "sync: accepted 500 orders (400 new) from 2 of 2 peers", "sync: wrote 400 orders to "+outPath)
		got, err := cli.ReadOrderFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		want := orderHashes(t, slices.Concat(valid, more[100:]))
		if !slices.Equal(orderHashes(t, got), want) {
			t.Fatalf("out file holds %d orders, want the union of both peers' (%d)", len(got), len(want))
		}
	})

	t.Run("filter that matches nothing", func(t *testing.T) {
		// Orders are on chain 1337; asking for chain 1 gets none, and
		// sync must say so rather than succeed.
		// The default --timeout is minutes: sync must see by itself that
		// the peer has answered in full with nothing.
		outPath := filepath.Join(t.TempDir(), "got.jsonl")
		res := runBinary(t, bin, "sync", "--peer", addr, "--out", outPath, "--chain-id", "1")
		if res.code != exitFailure {
			t.Fatalf("sync exited %d, want %d:\n%s%s", res.code, exitFailure, res.stdout, res.stderr)
		}
		proctest.MustContain(t, "sync's error", res.stderr, "ordersync sync: gave up: nothing received", "peer sent no valid orders")
		proctest.MustContain(t, "sync's summary", res.stdout, "sync: accepted 0 orders")
	})

	t.Run("mainnet orders", func(t *testing.T) {
		// Chain 1 orders for mainnet's Exchange and for another contract
		// (the hash vector's address, once our default): --chain-id 1
		// alone must keep the first and drop the second.
		mainnet := ordergen.Generate(ordergen.Options{Seed: 7, Count: 30, ChainID: 1})
		other := ordergen.Generate(ordergen.Options{Seed: 8, Count: 30, ChainID: 1,
			Exchange: common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48")})
		path := filepath.Join(t.TempDir(), "chain1.jsonl")
		if _, err := cli.WriteOrderFile(path, slices.Values(slices.Concat(mainnet, other))); err != nil {
			t.Fatal(err)
		}
		srv1 := startServer(t, bin, "--orders", path)
		defer srv1.stop(t)
		outPath := filepath.Join(t.TempDir(), "got.jsonl")
		res := runBinary(t, bin, "sync", "--peer", srv1.addrs[0], "--out", outPath, "--chain-id", "1")
		if res.code != 0 {
			t.Fatalf("sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
		}
		got, err := cli.ReadOrderFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(orderHashes(t, got), orderHashes(t, mainnet)) {
			t.Fatalf("out file holds %d orders, want exactly the %d for mainnet's Exchange", len(got), len(mainnet))
		}
	})

	t.Run("timeout", func(t *testing.T) {
		// A provider that serves its burst of pages and then one page per
		// 100 s: the sync cannot finish within --timeout.
		slow := startServer(t, bin, "--orders", ordersPath, "--per-page", "10", "--rate-limit", "0", "--peer-rate-limit", "0.01")
		defer slow.stop(t)
		outPath := filepath.Join(t.TempDir(), "got.jsonl")
		res := runBinary(t, bin, "sync", "--peer", slow.addrs[0], "--out", outPath, "--timeout", "1s")
		if res.code != exitFailure {
			t.Fatalf("sync exited %d, want %d:\n%s%s", res.code, exitFailure, res.stdout, res.stderr)
		}
		proctest.MustContain(t, "sync's error", res.stderr, "ordersync sync: timed out after 1s: 0 of 1 required peers synced, ", " orders written to "+outPath)
		// What arrived before the timeout is kept, and is all genuine.
		got, err := cli.ReadOrderFile(outPath)
		if err != nil {
			t.Fatal(err)
		}
		gotHashes := orderHashes(t, got)
		if len(got) == 0 || len(got) >= len(valid) {
			t.Fatalf("out file holds %d orders, want some but not all %d", len(got), len(valid))
		}
		for _, h := range gotHashes {
			if _, found := slices.BinarySearchFunc(wantHashes, h, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) }); !found {
				t.Fatalf("out file holds order %s, which the peer does not have", h)
			}
		}
	})

	if code := srv.stop(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0; stderr:\n%s", code, srv.stderr.String())
	}
	proctest.MustContain(t, "serve's report", srv.stderr.String(), "301 orders, 300 verified, 1 rejected (wrong signer 1)", "serve: stopping: served ")

	t.Run("identity file keeps the peer ID", func(t *testing.T) {
		keyPath := filepath.Join(t.TempDir(), "node.key")
		var ids []string
		for range 2 {
			s := startServer(t, bin, "--orders", ordersPath, "--identity", keyPath)
			_, id, _ := strings.Cut(s.addrs[0], "/p2p/")
			ids = append(ids, id)
			if code := s.stop(t); code != 0 {
				t.Fatalf("serve exited %d: %s", code, s.stderr.String())
			}
		}
		if ids[0] == "" || ids[0] != ids[1] {
			t.Fatalf("peer IDs %q: want the same one twice", ids)
		}
		if _, freshID, _ := strings.Cut(addr, "/p2p/"); freshID == ids[0] {
			t.Fatal("the run without --identity had the same peer ID")
		}
	})

	t.Run("unreachable peer", func(t *testing.T) {
		// The server is gone: its address now refuses connections.
		outDir := t.TempDir()
		res := runBinary(t, bin, "sync", "--peer", addr, "--out", filepath.Join(outDir, "x"), "--timeout", "20s")
		if res.code != exitFailure {
			t.Fatalf("sync exited %d, want %d:\n%s", res.code, exitFailure, res.stderr)
		}
		proctest.MustContain(t, "sync's error", res.stderr, "ordersync sync: cannot reach peer", "connection refused")
		if lines := strings.Count(strings.TrimSpace(res.stderr), "\n") + 1; lines != 1 {
			t.Errorf("the error takes %d lines, want one:\n%s", lines, res.stderr)
		}
		if left, _ := os.ReadDir(outDir); len(left) > 0 {
			t.Errorf("a sync that never started left %s in the output directory", left[0].Name())
		}
	})

	t.Run("bad input", func(t *testing.T) {
		badLine := filepath.Join(t.TempDir(), "bad.jsonl")
		line2, err := valid[1].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		line2 = bytes.Replace(line2, []byte(`"takerFee":"0"`), []byte(`"takerFee":"-1"`), 1)
		line1, _ := valid[0].MarshalJSON()
		if err := os.WriteFile(badLine, slices.Concat(line1, []byte("\n"), line2, []byte("\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		missing := filepath.Join(t.TempDir(), "missing.jsonl")
		for _, tc := range []struct {
			name string
			args []string
			code int
			want []string
		}{
			{"nonexistent order file", []string{"serve", "--orders", missing}, exitFailure,
				[]string{"ordersync serve: open " + missing + ": no such file or directory"}},
			{"bad order line", []string{"serve", "--orders", badLine}, exitFailure,
				[]string{"ordersync serve: " + badLine + `:2: zeroex: field "takerFee"`}},
			{"bad multiaddr", []string{"sync", "--peer", "/ip4/127.0.0.1/tcp/x", "--out", filepath.Join(t.TempDir(), "x")}, exitUsage,
				[]string{`invalid value "/ip4/127.0.0.1/tcp/x" for flag -peer: bad multiaddr`}},
			{"bad listen multiaddr", []string{"serve", "--orders", badLine, "--listen", "tcp://1.2.3.4"}, exitUsage,
				[]string{`ordersync serve: --listen "tcp://1.2.3.4": bad multiaddr`}},
			{"bad schema", []string{"sync", "--peer", addr, "--out", filepath.Join(t.TempDir(), "x"), "--filter-schema", `{"required":5}`}, exitUsage,
				[]string{"ordersync sync: --filter-schema:"}},
			{"unknown subprotocol", []string{"sync", "--peer", addr, "--out", filepath.Join(t.TempDir(), "x"), "--subprotocols", "fast"}, exitUsage,
				[]string{`ordersync sync: --subprotocols "fast": unknown subprotocol "fast"`}},
			{"unwritable out file", []string{"sync", "--peer", addr, "--out", filepath.Join(missing, "x")}, exitFailure,
				[]string{"ordersync sync: cannot write " + filepath.Join(missing, "x") + ": no such file or directory"}},
			{"unknown command", []string{"fetch"}, exitUsage, []string{`ordersync: unknown command "fetch"`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := runBinary(t, bin, tc.args...)
				if res.code != tc.code {
					t.Errorf("exit code %d, want %d", res.code, tc.code)
				}
				proctest.MustContain(t, "stderr", res.stderr, tc.want...)
			})
		}
	})
}
