// Package sqlite links SQLite (modernc.org/sqlite, pure Go) into
// sqlstore.Open for "sqlite:PATH" databases. Import it for its side effect,
// as database/sql drivers are:
//
//	import _ "github.com/ordersync/ordersync/orderstore/sqlstore/sqlite"
package sqlite

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ordersync/ordersync/orderstore/sqlstore/internal/driver"
)

func init() {
	driver.Register("sqlite", driver.Driver{SQLName: "sqlite", Explain: explain})
}

// explain says in words what SQLite's error codes mean for someone who
// named the file.
func explain(name string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlstore: %s: the database is locked by another connection (is another ordersync using it?): %w", name, err)
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("sqlstore: %s: not a SQLite database: %w", name, err)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("sqlstore: %s: cannot open the file (does its directory exist, and may this user write there?): %w", name, err)
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
			return fmt.Errorf("sqlstore: %s: the database is not writable: %w", name, err)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("sqlstore: %s: the database is damaged: %w", name, err)
		}
	}
	return fmt.Errorf("sqlstore: %s: %w", name, err)
}
