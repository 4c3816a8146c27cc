package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/testing/pgtest"
)

func TestOpenRefusesOutOfRangeOptions(t *testing.T) {
	path := "sqlite:" + filepath.Join(t.TempDir(), "s.db")
	for name, opt := range map[string]sqlstore.Option{
		"WithBusyTimeout": sqlstore.WithBusyTimeout(-time.Second),
		"WithReaders":     sqlstore.WithReaders(0),
		"WithReaders(":    sqlstore.WithReaders(sqlstore.MaxReaders + 1),
	} {
		s, err := sqlstore.Open(context.Background(), path, opt)
		if err == nil {
			s.Close()
			t.Fatalf("%s: an out-of-range value was accepted", name)
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: the error does not name the option: %v", name, err)
		}
	}
	if _, err := os.Stat(strings.TrimPrefix(path, "sqlite:")); !os.IsNotExist(err) {
		t.Errorf("a refused Open created the database (%v)", err)
	}
}

func TestOpenRefusesUnknownDatabases(t *testing.T) {
	for _, dsn := range []string{"", "orders.db", "mysql://x", "sqlite:", "sqlite:/tmp/a?b"} {
		if s, err := sqlstore.Open(context.Background(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", dsn)
		}
	}
	_, err := sqlstore.Open(context.Background(), "ftp://user:secret@host/db")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of a URL with a password: %v (must fail without showing the password)", err)
	}
}

func TestSQLiteReopenServesWhatIsStored(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "orders.db")
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	orders := storetest.Orders(0, 300)
	if n, err := s.AddOrders(context.Background(), orders); err != nil || n != 300 {
		t.Fatalf("AddOrders: %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddOrders(context.Background(), orders); !errors.Is(err, sqlstore.ErrClosed) {
		t.Fatalf("AddOrders after Close: %v, want ErrClosed", err)
	}
	s = open(t, dsn)
	if n, err := s.Len(context.Background()); err != nil || n != 300 {
		t.Fatalf("reopened: Len = %d, %v; want 300", n, err)
	}
	if n, err := s.AddOrders(context.Background(), orders[:10]); err != nil || n != 0 {
		t.Fatalf("reopened: re-adding stored orders: %d new, %v", n, err)
	}
}

// bumpSchema sets the database's schema version, as a newer program would.
func bumpSchema(t *testing.T, driver, dsn string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE ordersync_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	s, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	bumpSchema(t, "sqlite", path)
	_, err = sqlstore.Open(context.Background(), "sqlite:"+path)
	if !errors.Is(err, sqlstore.ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a version 99 database: %v; want ErrNewerSchema naming the file and the version", err)
	}
	t.Log(err)
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	url := pgtest.Database(t)
	open(t, url) // Creates the schema.
	bumpSchema(t, "pgx", url)
	_, err := sqlstore.Open(context.Background(), url)
	if !errors.Is(err, sqlstore.ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("Open of a version 99 database: %v; want ErrNewerSchema", err)
	}
}

func TestSQLiteRefusesUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database, just text. ", 400)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{garbage, "not a SQLite database"},
		{filepath.Join(dir, "no", "such", "dir", "orders.db"), "cannot open"},
		{dir, "cannot open"},
	} {
		s, err := sqlstore.Open(context.Background(), "sqlite:"+tc.path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s): no error", tc.path)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Open(%s): %v; want an error naming the file that says %q", tc.path, err, tc.want)
		}
	}
}

func TestSQLiteRefusesLockedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	s, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Another program holds the write lock and does not let go.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	_, err = sqlstore.Open(context.Background(), "sqlite:"+path, sqlstore.WithBusyTimeout(100*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a locked database: %v; want an error that names the file and says it is locked", err)
	}
	t.Log(err)
}

// TestSQLiteMigratesVersion1 opens a database at schema version 1 (as the
// first release wrote it) and finds it at the current version, its orders
// kept and found by hash, its indexes those of the current version.
func TestSQLiteMigratesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	orders := storetest.Orders(0, 50)
	if err := sqlstore.WriteVersion1(path, orders); err != nil {
		t.Fatal(err)
	}
	s := open(t, "sqlite:"+path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int
	if err := db.QueryRow("SELECT max(version) FROM ordersync_schema").Scan(&version); err != nil {
		t.Fatal(err)
	}
	var indexes []string
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'orders_by_%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		indexes = append(indexes, name)
	}
	rows.Close()
	if want := []string{"orders_by_expiration", "orders_by_hash", "orders_by_hash_unchained"}; version != 5 || !slices.Equal(indexes, want) {
		t.Fatalf("after opening a version 1 database: version %d, indexes %v; want 5 and %v", version, indexes, want)
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("after the migration: %d orders, want the 50 written", len(got))
	}
	if n, err := s.AddOrders(context.Background(), orders); err != nil || n != 0 {
		t.Fatalf("adding the migrated orders again: %d new, %v; want 0", n, err)
	}
	checkIntegrity(t, path)
}

// newSQLiteAndRaw opens a new SQLite store and, beside it, a plain
// connection to its file for looking inside.
func newSQLiteAndRaw(t *testing.T) *sql.DB {
	path := filepath.Join(t.TempDir(), "orders.db")
	open(t, "sqlite:"+path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLiteNewDatabaseSettings(t *testing.T) {
	db := newSQLiteAndRaw(t)
	var pageSize int
	var mode string
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if pageSize != 8192 || mode != "wal" {
		t.Fatalf("a new database has page_size %d and journal_mode %q; want 8192 and wal", pageSize, mode)
	}
}

// TestSQLiteQueryPlans checks that the store's reads use the indexes that
// docs/schema.md says they use, not a scan of the table.
func TestSQLiteQueryPlans(t *testing.T) {
	db := newSQLiteAndRaw(t)
	for query, want := range map[string]string{
		"SELECT hash, order_json FROM orders WHERE hash > ? ORDER BY hash LIMIT ?": "USING INDEX orders_by_hash",
		"SELECT hash, order_json FROM orders WHERE hash IN (?, ?)":                 "USING INDEX orders_by_hash",
		"SELECT hash, chain_id, exchange_address FROM orders":                      "USING COVERING INDEX orders_by_hash",
		// Version 4: the pruner's and the eviction's selections, and the
		// earliest expiration.
		"SELECT hash FROM orders WHERE pinned IN (0, 1) AND expiration_time_seconds <= ? LIMIT ?":                  "USING INDEX orders_by_expiration (pinned=? AND expiration_time_seconds<?)",
		"SELECT hash FROM orders WHERE pinned = 0 ORDER BY expiration_time_seconds DESC LIMIT ?":                   "USING INDEX orders_by_expiration (pinned=?)",
		"SELECT min(expiration_time_seconds) FROM orders WHERE pinned = ?":                                         "USING COVERING INDEX orders_by_expiration",
		"SELECT hash, order_json FROM orders WHERE hash > ? AND expiration_time_seconds > ? ORDER BY hash LIMIT ?": "USING INDEX orders_by_hash",
	} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args(query)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), want) {
			t.Errorf("%s: plan %q, want %s", query, plan, want)
		}
	}
}

// args are values for query's placeholders: a hash first, then numbers.
func args(query string) []any {
	vals := []any{make([]byte, 32)}
	if !strings.HasPrefix(query, "SELECT hash, order_json") {
		vals[0] = 0
	}
	for range strings.Count(query, "?") - 1 {
		vals = append(vals, 10)
	}
	return vals
}
