package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// dialect is what differs between the SQL databases: placeholders, column
// types, and how the migration step excludes a concurrent one.
type dialect struct {
	name string
	// placeholder returns the text of the i-th (from 1) statement
	// parameter.
	placeholder func(i int) string
	// migrations[v] takes the schema from version v to v+1, one statement
	// per string.
	migrations [][]string
	// lockSchema, when set, runs first in the migration transaction and
	// waits for any other opener's migration to end.
	lockSchema string
	// hasSchemaTable is a query that returns one boolean: whether the
	// version table exists.
	hasSchemaTable string
	// changeLog is whether the database has the change log that lets
	// several processes share it (follow.go).
	changeLog bool
	// onConflict is the clause of AddOrders' INSERT that leaves a stored
	// hash alone.
	onConflict string
	// driverCachesStatements is whether the driver keeps the statements
	// it ran prepared itself (pgx does), so the store need not.
	driverCachesStatements bool
	// arrays is whether a statement can bind a column of values as one
	// array (PostgreSQL: postgres.go).
	arrays bool
}

// schemaVersion is the version of the schema this package writes for d:
// each dialect counts its own migrations.
func (d *dialect) schemaVersion() int { return len(d.migrations) }

// orderColumns are the columns AddOrders writes, in the order of row's
// values.
const orderColumns = "hash, chain_id, exchange_address, maker_address, taker_address, fee_recipient_address, sender_address, maker_asset_data, taker_asset_data, expiration_time_seconds, added_at, order_json"

// numColumns is how many values one row has.
const numColumns = 12

// sqliteColumnsAfterHash are the SQLite table's columns after hash, the
// same in versions 1 and 3.
const sqliteColumnsAfterHash = `
			chain_id                INTEGER,
			exchange_address        BLOB    NOT NULL,
			maker_address           BLOB    NOT NULL,
			taker_address           BLOB    NOT NULL,
			fee_recipient_address   BLOB    NOT NULL,
			sender_address          BLOB    NOT NULL,
			maker_asset_data        BLOB    NOT NULL,
			taker_asset_data        BLOB    NOT NULL,
			expiration_time_seconds INTEGER NOT NULL,
			added_at                INTEGER NOT NULL,
			order_json              BLOB    NOT NULL
		`

var sqliteDialect = &dialect{
	name:        "sqlite",
	placeholder: func(int) string { return "?" },
	migrations: [][]string{{
		// WITHOUT ROWID keeps each row in the primary key's B-tree, so that
		// a range of hashes is a range of pages. Rows of about 1 KiB fit
		// in 8 KiB pages (Open sets page_size before the first table)
		// without overflow pages.
		`CREATE TABLE orders (
			hash                    BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
` + sqliteColumnsAfterHash + `) WITHOUT ROWID`,
		`CREATE INDEX orders_by_maker ON orders (maker_address)`,
		`CREATE INDEX orders_by_expiration ON orders (expiration_time_seconds)`,
	}, {
		// Version 2: the reconciliation index is built from every
		// order's hash and class; this index (which holds the primary
		// key too) gives them without reading the orders.
		`CREATE INDEX orders_by_class ON orders (chain_id, exchange_address)`,
	}, {
		// Version 3: rows in the order they were added (a rowid table),
		// found by hash through an index. An insert then appends the
		// order to the table's last page, and only the small entries of
		// the indexes land on random pages; in version 2 every order
		// landed on a random page of the table itself, about 1 KiB into
		// an 8 KiB page that went to the WAL and back for each insert.
		// orders_by_maker goes: nothing queries it, and it cost a fourth
		// B-tree per insert.
		`CREATE TABLE orders_v3 (
			hash                    BLOB    NOT NULL CHECK (length(hash) = 32),
` + sqliteColumnsAfterHash + `)`,
		`INSERT INTO orders_v3 (` + orderColumns + `) SELECT ` + orderColumns + ` FROM orders ORDER BY added_at`,
		`DROP TABLE orders`,
		`ALTER TABLE orders_v3 RENAME TO orders`,
		`CREATE UNIQUE INDEX orders_by_hash ON orders (hash)`,
		`CREATE INDEX orders_by_expiration ON orders (expiration_time_seconds)`,
		`CREATE INDEX orders_by_class ON orders (chain_id, exchange_address, hash)`,
	}, sqliteVersion4, sqliteVersion5},
	// Any unique index: from version 5 there are two (schema_v5.go).
	onConflict:     " ON CONFLICT DO NOTHING",
	hasSchemaTable: `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'ordersync_schema'`,
}

var postgresDialect = &dialect{
	name:        "postgres",
	placeholder: func(i int) string { return fmt.Sprintf("$%d", i) },
	migrations: [][]string{{
		`CREATE TABLE orders (
			hash                    bytea  NOT NULL PRIMARY KEY CHECK (octet_length(hash) = 32),
			chain_id                bigint,
			exchange_address        bytea  NOT NULL,
			maker_address           bytea  NOT NULL,
			taker_address           bytea  NOT NULL,
			fee_recipient_address   bytea  NOT NULL,
			sender_address          bytea  NOT NULL,
			maker_asset_data        bytea  NOT NULL,
			taker_asset_data        bytea  NOT NULL,
			expiration_time_seconds bigint NOT NULL,
			added_at                bigint NOT NULL,
			order_json              bytea  NOT NULL
		)`,
		`CREATE INDEX orders_by_maker ON orders (maker_address)`,
		`CREATE INDEX orders_by_expiration ON orders (expiration_time_seconds)`,
	}, {
		`CREATE INDEX orders_by_class ON orders (chain_id, exchange_address) INCLUDE (hash)`,
	}, {
		// Version 3: the change log, so that every process that shares
		// the database keeps its reconciliation index current with the
		// others' writes (follow.go). orders_by_maker goes: nothing
		// queries it, and it cost an index entry per insert.
		`DROP INDEX orders_by_maker`,
		`CREATE TABLE ordersync_changes (
			seq              bigint  NOT NULL PRIMARY KEY,
			hash             bytea   NOT NULL,
			chain_id         bigint,
			exchange_address bytea   NOT NULL,
			removed          boolean NOT NULL,
			writer           bigint  NOT NULL
		)`,
		`CREATE TABLE ordersync_change_head (seq bigint NOT NULL)`,
		`INSERT INTO ordersync_change_head (seq) VALUES (0)`,
	}, postgresVersion4, postgresVersion5, postgresVersion6, postgresVersion7},
	changeLog:              true,
	onConflict:             " ON CONFLICT (hash) DO NOTHING",
	driverCachesStatements: true,
	arrays:                 true,
	// Any constant works; this one spells "ordersyn".
	lockSchema:     `SELECT pg_advisory_xact_lock(8030604363432800622)`,
	hasSchemaTable: `SELECT to_regclass('ordersync_schema') IS NOT NULL`,
}

// migrate brings the schema of db up to d's version in one transaction,
// or refuses a database whose schema is newer.
func migrate(ctx context.Context, db *sql.DB, d *dialect) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.lockSchema != "" {
		if _, err := tx.ExecContext(ctx, d.lockSchema); err != nil {
			return err
		}
	}
	version, err := readSchemaVersion(ctx, tx, d)
	if err != nil {
		return err
	}
	latest := d.schemaVersion()
	if version > latest {
		return fmt.Errorf("%w: the database is at version %d, this program knows up to %d: use a newer ordersync", ErrNewerSchema, version, latest)
	}
	if version == latest {
		return tx.Commit()
	}
	if version == 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE ordersync_schema (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("create the schema version table: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ordersync_schema (version) VALUES (0)`); err != nil {
			return err
		}
	}
	for v := version; v < latest; v++ {
		for _, stmt := range d.migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate the schema to version %d: %w", v+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ordersync_schema SET version = `+d.placeholder(1), latest); err != nil {
		return err
	}
	return tx.Commit()
}

// readSchemaVersion returns the database's schema version: 0 when it has
// no version table (a new database).
func readSchemaVersion(ctx context.Context, tx *sql.Tx, d *dialect) (int, error) {
	var exists bool
	if err := tx.QueryRowContext(ctx, d.hasSchemaTable).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var version sql.NullInt64
	switch err := tx.QueryRowContext(ctx, `SELECT max(version) FROM ordersync_schema`).Scan(&version); {
	case err != nil:
		return 0, fmt.Errorf("read the schema version: %w", err)
	case !version.Valid:
		return 0, fmt.Errorf("the schema version table ordersync_schema is empty")
	case version.Int64 < 0:
		return 0, fmt.Errorf("schema version %d: not a version", version.Int64)
	}
	return int(version.Int64), nil
}
