package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"

	"github.com/ordersync/ordersync/orderstore/sqlstore/internal/driver"
)

// Page cache per connection, in KiB (SQLite's negative cache_size): the
// writer's is larger because an import touches all four B-trees.
const (
	sqliteWriterCacheKiB = 16 << 10
	sqliteReaderCacheKiB = 4 << 10
)

// sqliteCheckpointPages is how large the WAL grows, in pages (80 MiB),
// before a commit copies it back into the database (SQLite's default is
// 1 000). A page that several transactions changed is copied once per
// checkpoint, not once per transaction: orders come in random hash order,
// so successive transactions touch mostly the same index pages. A
// 200 000-order import wrote 12 % fewer bytes and spent 19 % less time in
// the kernel (docs/schema.md).
const sqliteCheckpointPages = 10_000

// openSQLite opens or creates the SQLite database at path: one writer
// connection that owns WAL mode, the schema and every write, and a pool of
// query-only readers.
func openSQLite(ctx context.Context, path string, cfg config) (*Store, error) {
	name := "sqlite:" + path
	if path == "" {
		return nil, fmt.Errorf("sqlstore: %s: no file named", name)
	}
	if strings.ContainsAny(path, "?#") {
		// The driver would read what follows as connection parameters.
		return nil, fmt.Errorf("sqlstore: %s: a path with '?' or '#' is not supported", name)
	}
	busy := cfg.busyTimeout.Milliseconds()
	// temp_store(MEMORY): a multi-row INSERT inside a transaction keeps a
	// statement journal (to undo that statement alone) in temporary
	// storage; on disk, that was a temp file written
	// with a pwrite per page, 10 % of AddOrders' CPU. Neither outlives
	// its transaction, so durability does not depend on it.
	synchronous, journal := "FULL", "WAL"
	if cfg.loading {
		synchronous, journal = "OFF", "OFF"
	}
	write, err := sql.Open("sqlite", fmt.Sprintf(
		"%s?_pragma=busy_timeout(%d)&_pragma=synchronous(%s)&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(%d)&_pragma=temp_store(MEMORY)&_txlock=immediate",
		path, busy, synchronous, sqliteWriterCacheKiB, sqliteCheckpointPages))
	if err != nil {
		return nil, sqliteOpenError(name, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := checkSQLite(ctx, write, journal); err != nil {
		write.Close()
		return nil, sqliteOpenError(name, err)
	}
	// A bulk load that a dead process left unfinished: its orders are
	// committed; its indexes are built before anything else (bulk.go).
	if err := buildDeferredIndexes(ctx, write); err != nil {
		write.Close()
		return nil, sqliteOpenError(name, err)
	}
	if err := migrate(ctx, write, sqliteDialect); err != nil {
		write.Close()
		return nil, sqliteOpenError(name, err)
	}

	read, err := sql.Open("sqlite", fmt.Sprintf(
		"%s?_pragma=busy_timeout(%d)&_pragma=cache_size(-%d)&_pragma=query_only(1)",
		path, busy, sqliteReaderCacheKiB))
	if err != nil {
		write.Close()
		return nil, sqliteOpenError(name, err)
	}
	readers := max(cfg.readers, min(runtime.GOMAXPROCS(0), 8))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, sqliteOpenError(name, err)
	}
	return newStore(sqliteDialect, name, read, write), nil
}

// checkSQLite makes the writer's connection, which reads the file's
// header, sets the page size of a new file, switches it to the journal
// mode (WAL, or OFF for a load; both are stored in the file) and checks
// that this is what it got.
func checkSQLite(ctx context.Context, db *sql.DB, journal string) error {
	// page_size only takes effect on a new, empty database, and only
	// before journal_mode writes its first page (the driver's DSN pragmas
	// come in an order of their own, so not there).
	if _, err := db.ExecContext(ctx, "PRAGMA page_size = 8192"); err != nil {
		return err
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = "+journal).Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, journal) {
		return fmt.Errorf("journal mode is %q, not %s", mode, journal)
	}
	return nil
}

// sqliteOpenError is err as the sqlite subpackage words it.
func sqliteOpenError(name string, err error) error {
	if d, ok := driver.Lookup("sqlite"); ok && d.Explain != nil {
		return d.Explain(name, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", name, err)
}
