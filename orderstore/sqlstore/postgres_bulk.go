package sqlstore

import (
	"context"
	"database/sql"
)

// A bulk load into an empty PostgreSQL database is SQLite's (bulk.go):
// the secondary indexes of orders (every index but the primary key on
// hash, which AddOrders needs to skip stored orders) are dropped, their
// statements kept in deferredIndexesTable in the same transaction, and
// built again at the end, each in one sorted pass instead of an entry put
// at a random place, and logged to the WAL, for every order. The
// statements are PostgreSQL's own (pg_indexes), so there is no second list
// to drift. DDL is transactional in PostgreSQL: a crash leaves either the
// indexes or the table that names them, never neither, and the next Open,
// by any process, builds them. Each step holds the schema's advisory lock,
// so that two processes never build the same index twice.

// deferPostgresIndexes drops the secondary indexes of an empty orders
// table, keeping their statements; it reports whether it did (not when
// the table holds orders, or a load is under way already).
func deferPostgresIndexes(ctx context.Context, db *sql.DB) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, postgresDialect.lockSchema); err != nil {
		return false, err
	}
	var busy bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM orders) OR to_regclass('`+deferredIndexesTable+`') IS NOT NULL`).Scan(&busy)
	if err != nil || busy {
		return false, err
	}
	// The unique indexes stay: the primary key's is the only one.
	names, stmts, err := indexStatements(ctx, tx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'orders' AND indexdef NOT LIKE 'CREATE UNIQUE%'
		ORDER BY indexname`)
	if err != nil {
		return false, err
	}
	if len(names) == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+deferredIndexesTable+` (n integer NOT NULL, statement text NOT NULL)`); err != nil {
		return false, err
	}
	for i, name := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+deferredIndexesTable+` (n, statement) VALUES ($1, $2)`, i, stmts[i]); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return false, err
		}
	}
	if err := deferAutovacuum(ctx, tx, len(names)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// deferAutovacuum turns autovacuum off for orders until the load ends, as
// the deferred statement numbered n: a table filling from empty passes the
// server's insert threshold again and again, and a vacuum of it competed
// with the load for the CPU (about 13 % of the server's during a sync) to
// set visibility bits on pages the load is still writing. A table with
// storage parameters of the operator's own is left alone.
func deferAutovacuum(ctx context.Context, tx *sql.Tx, n int) error {
	var plain bool
	if err := tx.QueryRowContext(ctx, `SELECT reloptions IS NULL FROM pg_class WHERE oid = 'orders'::regclass`).Scan(&plain); err != nil || !plain {
		return err
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE orders SET (autovacuum_enabled = false)`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO `+deferredIndexesTable+` (n, statement) VALUES ($1, $2)`, n, `ALTER TABLE orders RESET (autovacuum_enabled)`)
	return err
}

// buildPostgresDeferredIndexes builds the indexes a bulk load dropped, if
// one did, in one transaction that also forgets them.
func buildPostgresDeferredIndexes(ctx context.Context, db *sql.DB) error {
	return buildPending(ctx, db, postgresDialect.lockSchema,
		`SELECT to_regclass('`+deferredIndexesTable+`') IS NOT NULL`,
		`SELECT statement FROM `+deferredIndexesTable+` ORDER BY n`)
}
