package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/ordersync/ordersync/zeroex"
)

// WriteVersion1 creates, at path, a SQLite database at schema version 1 (as
// the first release wrote it) that holds orders, for the migration tests.
func WriteVersion1(path string, orders []*zeroex.SignedOrder) error {
	return WriteVersion("sqlite:"+path, 1, orders)
}

// WriteVersion creates, in the new database that dsn names, the schema at
// version (as the release that wrote it did) holding orders.
func WriteVersion(dsn string, version int, orders []*zeroex.SignedOrder) error {
	d, driverName, name := postgresDialect, "pgx", dsn
	stmts := []string{}
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		d, driverName, name = sqliteDialect, "sqlite", path
		stmts = append(stmts, "PRAGMA page_size = 8192", "PRAGMA journal_mode = WAL")
	}
	db, err := sql.Open(driverName, name)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts = append(stmts,
		"CREATE TABLE ordersync_schema (version INTEGER NOT NULL)",
		fmt.Sprintf("INSERT INTO ordersync_schema (version) VALUES (%d)", version))
	for v := range version {
		stmts = append(stmts, d.migrations[v]...)
	}
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			return err
		}
	}
	rows, err := makeRows(orders)
	if err != nil {
		return err
	}
	marks := make([]string, numColumns)
	for i := range marks {
		marks[i] = d.placeholder(i + 1)
	}
	insert := "INSERT INTO orders (" + orderColumns + ") VALUES (" + strings.Join(marks, ",") + ")"
	for _, r := range rows {
		if _, err := db.Exec(insert, r[:]...); err != nil {
			return err
		}
	}
	return nil
}

// SetPruneBatch sets how many orders a prune transaction deletes, for the
// measurement, and returns a function that restores it.
func SetPruneBatch(n int) (restore func()) {
	old := pruneBatch
	pruneBatch = n
	return func() { pruneBatch = old }
}

// HoldPruner makes every prune batch of s (the pruner's and
// ExpireOrders') wait until release is called, so that a test can see
// what does not need the pruner. s needs WithExpiry.
func HoldPruner(s *Store) (release func()) {
	gate := make(chan struct{})
	wait := func() { <-gate }
	s.lim.holdPrune.Store(&wait)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.lim.holdPrune.Store(nil)
			close(gate)
		})
	}
}
