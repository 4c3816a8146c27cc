package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// A bulk load is an import into an empty SQLite database with its
// secondary indexes (every index on orders but the unique one on hash,
// which AddOrders needs to skip stored orders) dropped, and built again at
// its end: each insert then lands in the table's last page and in one
// index, instead of three B-trees at random places, and each index is
// built once, sorted, instead of being rewritten page by page in every
// transaction. Their statements are kept, in the same transaction that
// drops them, in deferredIndexesTable, and Open builds them from there
// when a process died mid-load: the rows it committed are in the table,
// and no index is left missing. The indexes are the schema's own (read
// back from sqlite_master), so there is no second list to drift. The
// writer's page cache stays 16 MiB: 96 MiB, which holds the hash index of
// 1 000 000 orders, wrote 2 % fewer bytes for 240 MiB more memory.

// deferredIndexesTable holds the statements of the indexes a bulk load
// dropped, until it builds them again.
const deferredIndexesTable = "ordersync_deferred_indexes"

// StartBulkLoad readies the store for a large import when it is an empty
// SQLite or PostgreSQL database, and returns the function that ends the
// load: call it when the import is done, or failed, to build the deferred
// indexes (it is safe to call more than once). On any other store it does
// nothing, and the function returned does nothing.
//
// Everything the store promises holds during the load: an order AddOrders
// reported is committed, and OrdersAfter, Get and the rest answer as ever,
// only queries that would use a deferred index read the table instead. A
// process killed during the load leaves the indexes to Open, which builds
// them before it returns.
func (s *Store) StartBulkLoad(ctx context.Context) (end func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	dropIndexes, buildIndexes := deferIndexes, buildDeferredIndexes
	switch s.d {
	case sqliteDialect:
	case postgresDialect: // postgres_bulk.go
		dropIndexes, buildIndexes = deferPostgresIndexes, buildPostgresDeferredIndexes
	default:
		return noop, nil
	}
	deferred, err := dropIndexes(ctx, s.write)
	if err != nil {
		return noop, s.errorf("start a bulk load: %w", err)
	}
	if !deferred {
		return noop, nil
	}
	ended := false
	return func(ctx context.Context) error {
		if ended {
			return nil
		}
		copied := s.checkpointAside(ctx)
		err := buildIndexes(ctx, s.write)
		<-copied
		if err != nil {
			return s.errorf("end a bulk load: %w", err)
		}
		ended = true
		return nil
	}, nil
}

// checkpointAside copies SQLite's WAL back into the database from a
// reader's connection while the writer builds the deferred indexes, and
// returns a channel closed when it is done. Both ran one after the other
// before, the copy at Close, on cores the load no longer kept busy: the
// tail of a 100 000-order sync went from about 285 to 205 ms. A PASSIVE
// checkpoint waits for no one, and what it leaves (frames the build
// commits meanwhile) Close's own checkpoint copies, so its result is not
// needed; on other stores it does nothing.
func (s *Store) checkpointAside(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if s.d != sqliteDialect || s.read == s.write {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		s.read.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	}()
	return done
}

// deferIndexes drops the secondary indexes of an empty orders table,
// keeping their statements; it reports whether it did (not when the table
// holds orders, or a load is under way already).
func deferIndexes(ctx context.Context, db *sql.DB) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var busy bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM orders) OR EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '`+deferredIndexesTable+`')`).Scan(&busy)
	if err != nil || busy {
		return false, err
	}
	names, stmts, err := indexStatements(ctx, tx, `SELECT name, sql FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'`)
	if err != nil {
		return false, err
	}
	if len(names) == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+deferredIndexesTable+` (statement TEXT NOT NULL)`); err != nil {
		return false, err
	}
	for i, name := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+deferredIndexesTable+` (statement) VALUES (?)`, stmts[i]); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+name+`"`); err != nil {
			return false, err
		}
	}
	return true, tx.Commit()
}

// indexStatements runs query, which lists indexes as (name, statement)
// rows, and returns its columns.
func indexStatements(ctx context.Context, tx *sql.Tx, query string) (names, stmts []string, err error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, stmt string
		if err := rows.Scan(&name, &stmt); err != nil {
			return nil, nil, err
		}
		names, stmts = append(names, name), append(stmts, stmt)
	}
	return names, stmts, rows.Err()
}

// buildDeferredIndexes builds the indexes a bulk load dropped, if one
// did, in one transaction that also forgets them.
func buildDeferredIndexes(ctx context.Context, db *sql.DB) error {
	return buildPending(ctx, db, "",
		`SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '`+deferredIndexesTable+`')`,
		`SELECT statement FROM `+deferredIndexesTable+` ORDER BY rowid`)
}

// buildPending runs, in one transaction that then drops the table, the
// statements kept in deferredIndexesTable, if pending (a query of one
// boolean) says it exists. lock, unless empty, runs first.
func buildPending(ctx context.Context, db *sql.DB, lock, pending, statements string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return err
		}
	}
	var exists bool
	if err := tx.QueryRowContext(ctx, pending).Scan(&exists); err != nil || !exists {
		return err
	}
	rows, err := tx.QueryContext(ctx, statements)
	if err != nil {
		return err
	}
	var stmts []string
	for rows.Next() {
		var stmt string
		if err := rows.Scan(&stmt); err != nil {
			rows.Close()
			return err
		}
		stmts = append(stmts, stmt)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("build a deferred index: %s: %w", stmt, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE `+deferredIndexesTable); err != nil {
		return err
	}
	return tx.Commit()
}
