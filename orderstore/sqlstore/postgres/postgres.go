// Package postgres links PostgreSQL (jackc/pgx) into sqlstore.Open for
// "postgres://" and "postgresql://" databases. Import it for its side
// effect, as database/sql drivers are:
//
//	import _ "github.com/ordersync/ordersync/orderstore/sqlstore/postgres"
package postgres

import (
	// The database/sql driver "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ordersync/ordersync/orderstore/sqlstore/internal/driver"
)

func init() {
	driver.Register("postgres", driver.Driver{SQLName: "pgx"})
}
