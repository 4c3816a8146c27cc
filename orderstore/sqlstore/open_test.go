package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync/internal/pgtest"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
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
// kept.
func TestSQLiteMigratesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	s, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddOrders(context.Background(), storetest.Orders(0, 50)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DROP INDEX orders_by_class; UPDATE ordersync_schema SET version = 1"); err != nil {
		t.Fatal(err)
	}
	s = open(t, "sqlite:"+path)
	var version, indexes int
	if err := db.QueryRow("SELECT max(version) FROM ordersync_schema").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'orders_by_class'").Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if version != 2 || indexes != 1 {
		t.Fatalf("after opening a version 1 database: version %d, orders_by_class indexes %d; want 2 and 1", version, indexes)
	}
	if n, err := s.Len(context.Background()); err != nil || n != 50 {
		t.Fatalf("after the migration: %d orders, %v; want 50", n, err)
	}
}

func TestSQLiteNewDatabaseSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	open(t, "sqlite:"+path)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
