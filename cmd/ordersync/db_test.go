package main

import (
	"context"
	"database/sql"
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
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/testing/pgtest"
	"github.com/ordersync/ordersync/testing/proctest"
	"github.com/ordersync/ordersync/zeroex"
)

// dbHashes opens the database as a store and returns the hashes it holds,
// ascending; reading checks every row against its key.
func dbHashes(t *testing.T, dsn string) []common.Hash {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hashes []common.Hash
	err = db.Each(context.Background(), func(h common.Hash, _ *zeroex.SignedOrder) bool {
		hashes = append(hashes, h)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return hashes
}

// TestCLIDatabase runs serve and sync with --db on SQLite and PostgreSQL:
// serve imports once and serves the database after a restart without the
// file; sync adds to its database and a second sync finds nothing new.
func TestCLIDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	valid := ordergen.Generate(ordergen.Options{Seed: 7, Count: 400})
	bad := ordergen.Generate(ordergen.Options{Seed: 7, First: 400, Count: 1})[0]
	bad.Salt.Add(bad.Salt, common.Big1)
	bad.ResetHash()
	ordersPath := filepath.Join(dir, "orders.jsonl")
	if _, err := cli.WriteOrderFile(ordersPath, slices.Values(append(slices.Clone(valid), bad))); err != nil {
		t.Fatal(err)
	}
	want := orderHashes(t, valid)

	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			var serveDB, syncDB string
			if kind == "sqlite" {
				serveDB = "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
				syncDB = "sqlite:" + filepath.Join(t.TempDir(), "sync.db")
			} else {
				serveDB, syncDB = pgtest.Database(t), pgtest.Database(t)
			}

			srv := startServer(t, bin, "--db", serveDB, "--orders", ordersPath, "--per-page", "50")
			if code := srv.stop(t); code != 0 {
				t.Fatalf("serve exited %d: %s", code, srv.stderr.String())
			}
			proctest.MustContain(t, "serve's import report", srv.stderr.String(), "401 orders, 400 verified, 1 rejected (wrong signer 1), 400 new in ", "serving 400 orders")

			// Restarted without the file, serve serves what it stored and
			// checks nothing.
			srv = startServer(t, bin, "--db", serveDB, "--per-page", "50")
			// The second sync reconciles: the database holds every order, so
			// none travels.
			for i, want := range []string{"sync: accepted 400 orders (400 new)", "sync: accepted 0 orders (0 new) from 1 of 1 peers"} {
				res := runBinary(t, bin, "sync", "--peer", srv.addrs[0], "--db", syncDB)
				if res.code != 0 {
					t.Fatalf("sync %d exited %d:\n%s%s", i, res.code, res.stdout, res.stderr)
				}
				proctest.MustContain(t, "sync's summary", res.stdout, want, " holds 400 orders")
				if path, ok := strings.CutPrefix(syncDB, "sqlite:"); ok {
					// The first sync deferred the expiration index (a bulk
					// load) and built it before it ended.
					if exp, deferred := sqliteIndexState(t, path); !exp || deferred {
						t.Fatalf("after sync %d the expiration index is there: %v, deferred: %v", i, exp, deferred)
					}
				}
				if strings.Contains(res.stdout, "wrote") {
					t.Errorf("sync without --out says it wrote a file:\n%s", res.stdout)
				}
			}
			// --db and --out: the file gets the accepted orders, as without
			// --db.
			outPath := filepath.Join(t.TempDir(), "got.jsonl")
			res := runBinary(t, bin, "sync", "--peer", srv.addrs[0], "--db", syncDB, "--out", outPath)
			if res.code != 0 {
				t.Fatalf("sync --out exited %d:\n%s%s", res.code, res.stdout, res.stderr)
			}
			proctest.MustContain(t, "sync's summary", res.stdout, "(0 new)", "sync: wrote 400 orders to "+outPath)
			got, err := cli.ReadOrderFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(orderHashes(t, got), want) {
				t.Fatalf("--out holds %d orders, not the 400 served", len(got))
			}
			if code := srv.stop(t); code != 0 {
				t.Fatalf("serve exited %d: %s", code, srv.stderr.String())
			}
			if strings.Contains(srv.stderr.String(), "verified") {
				t.Errorf("serve without --orders checked orders again:\n%s", srv.stderr.String())
			}
			if got := dbHashes(t, syncDB); !slices.Equal(got, want) {
				t.Fatalf("sync's database holds %d orders, not the 400 served", len(got))
			}
		})
	}
}

// TestSyncSurvivesKill kills "sync --db sqlite:..." with SIGKILL in the
// middle of a sync and checks the database: intact, only served orders,
// each whole; a second sync then completes it.
func TestSyncSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	const count = 6000
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	orders := ordergen.Generate(ordergen.Options{Seed: 9, Count: count})
	ordersPath := filepath.Join(dir, "orders.jsonl")
	if _, err := cli.WriteOrderFile(ordersPath, slices.Values(orders)); err != nil {
		t.Fatal(err)
	}
	want := orderHashes(t, orders)
	dbPath := filepath.Join(dir, "sync.db")

	// 20 pages a second of 50 orders: the sync takes about 6 s, and is
	// killed once the database holds some of it.
	slow := startServer(t, bin, "--orders", ordersPath, "--per-page", "50", "--peer-rate-limit", "20", "--rate-limit", "20")
	sync := startSyncProcess(t, bin, "--peer", slow.addrs[0], "--db", "sqlite:"+dbPath)
	waitForRows(t, dbPath, 500)
	if err := sync.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sync.Wait()
	slow.stop(t)

	// The first sync into the new database was a bulk load: the killed one
	// left its expiration index to be built, and opening the store builds it.
	if exp, deferred := sqliteIndexState(t, dbPath); exp || !deferred {
		t.Fatalf("mid-sync the expiration index is there: %v, deferred: %v; want a bulk load's", exp, deferred)
	}
	got := dbHashes(t, "sqlite:"+dbPath)
	if exp, deferred := sqliteIndexState(t, dbPath); !exp || deferred {
		t.Fatalf("after Open the expiration index is there: %v, deferred: %v; want it built", exp, deferred)
	}
	if len(got) < 500 || len(got) >= count {
		t.Fatalf("after kill -9 mid-sync the database holds %d of %d orders", len(got), count)
	}
	for _, h := range got {
		if _, ok := slices.BinarySearchFunc(want, h, func(a, b common.Hash) int { return strings.Compare(string(a[:]), string(b[:])) }); !ok {
			t.Fatalf("the database holds %s, which was never served", h)
		}
	}
	checkSQLiteIntegrity(t, dbPath)
	t.Logf("killed with %d of %d orders stored", len(got), count)

	fast := startServer(t, bin, "--orders", ordersPath)
	res := runBinary(t, bin, "sync", "--peer", fast.addrs[0], "--db", "sqlite:"+dbPath)
	if res.code != 0 {
		t.Fatalf("the second sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	// What it accepts depends on the subprotocol (reconcile sends only
	// the difference); what it holds does not.
	proctest.MustContain(t, "the second sync's summary", res.stdout, " holds 6000 orders")
	if got := dbHashes(t, "sqlite:"+dbPath); !slices.Equal(got, want) {
		t.Fatalf("after the second sync the database holds %d orders, want the %d served", len(got), count)
	}
}

// waitForRows polls the database (a second reader, which WAL allows) until
// it holds at least n orders.
func waitForRows(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(proctest.Timeout)
	for time.Now().Before(deadline) {
		if countRows(path) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the database never held %d orders", n)
}

func countRows(path string) int {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil {
		return 0
	}
	return n
}

func checkSQLiteIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q, %v", res, err)
	}
}

// sqliteIndexState reports whether the SQLite database at path has its
// expiration index, and whether a bulk load's deferred indexes wait.
func sqliteIndexState(t *testing.T, path string) (expiration, deferred bool) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`SELECT
		EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'orders_by_expiration'),
		EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ordersync_deferred_indexes')`).Scan(&expiration, &deferred)
	if err != nil {
		t.Fatal(err)
	}
	return expiration, deferred
}

// startSyncProcess starts "ordersync sync" and kills it when the test ends
// if it is still running.
func startSyncProcess(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := proctest.Command(bin, append([]string{"sync"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}
