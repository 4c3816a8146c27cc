package sqlstore

import (
	"database/sql"
	"strings"

	"github.com/ordersync/ordersync/zeroex"
)

// WriteVersion1 creates, at path, a SQLite database at schema version 1 (as
// the first release wrote it) that holds orders, for the migration tests.
func WriteVersion1(path string, orders []*zeroex.SignedOrder) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	stmts := append([]string{
		"PRAGMA page_size = 8192",
		"PRAGMA journal_mode = WAL",
		"CREATE TABLE ordersync_schema (version INTEGER NOT NULL)",
		"INSERT INTO ordersync_schema (version) VALUES (1)",
	}, sqliteDialect.migrations[0]...)
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			return err
		}
	}
	rows, err := makeRows(orders)
	if err != nil {
		return err
	}
	insert := "INSERT INTO orders (" + orderColumns + ") VALUES (" + strings.Repeat("?,", numColumns-1) + "?)"
	for _, r := range rows {
		if _, err := db.Exec(insert, r[:]...); err != nil {
			return err
		}
	}
	return nil
}
