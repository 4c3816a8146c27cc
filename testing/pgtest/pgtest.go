// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a temporary directory, a free port on 127.0.0.1, run as a user other than
// root, removed when the tests end or are interrupted.
//
// Tests call Database for a fresh, empty database on the process's one
// cluster (started on first use), and TestMain calls Stop after m.Run.
// Where no PostgreSQL server binary can be found the tests skip, saying so,
// except under CI=true, where they fail: CI installs the server, so a skip
// there is a broken CI.
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	// The database/sql driver "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
)

var (
	once    sync.Once
	shared  *cluster
	startFn error // why the cluster did not start
	missing string
	dbCount atomic.Int64
)

// Required reports whether a missing server fails the tests instead of
// skipping them: under CI=true.
func Required() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Database returns the URL of a new, empty database on the test process's
// cluster, dropped when t ends. It skips t when no server binary is
// installed (fails it under CI=true) and fails t when the cluster does not
// start.
func Database(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		bin, reason := findBinaries()
		if bin == "" {
			missing = reason
			return
		}
		shared, startFn = start(bin)
	})
	switch {
	case missing != "" && Required():
		t.Fatalf("pgtest: %s, and CI=true requires the PostgreSQL tests to run (.ci/run installs the postgresql package)", missing)
	case missing != "":
		t.Skipf("pgtest: skipping the PostgreSQL tests: %s (install the postgresql package, e.g. apt-get install postgresql)", missing)
	case startFn != nil:
		t.Fatalf("pgtest: %v", startFn)
	}
	name := fmt.Sprintf("ordersync_test_%d", dbCount.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := shared.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := shared.admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return shared.url(name)
}

// Stop stops the cluster, if one was started, and removes its directory.
// Call it from TestMain after m.Run.
func Stop() {
	if shared != nil {
		shared.stop()
	}
}

// findBinaries returns the directory that holds initdb and postgres, or
// why there is none. ORDERSYNC_PG_BIN names one explicitly.
func findBinaries() (dir, reason string) {
	has := func(d string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(d, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("ORDERSYNC_PG_BIN"); d != "" {
		if has(d) {
			return d, ""
		}
		return "", fmt.Sprintf("ORDERSYNC_PG_BIN=%s holds no initdb and postgres", d)
	}
	// Debian and Ubuntu keep the server outside PATH, one directory per
	// major version: take the newest.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, ""
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), ""
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), ""
		}
	}
	return "", "no PostgreSQL server binary (initdb and postgres) in /usr/lib/postgresql/*/bin or on PATH"
}

// majorOf is the version number in /usr/lib/postgresql/<major>/bin.
func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}
