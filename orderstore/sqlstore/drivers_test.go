package sqlstore

// The tests open both kinds of database.
import (
	_ "github.com/ordersync/ordersync/orderstore/sqlstore/postgres"
	_ "github.com/ordersync/ordersync/orderstore/sqlstore/sqlite"
)
