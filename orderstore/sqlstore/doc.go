// Package sqlstore is an orderstore.Store on a SQL database: SQLite
// (embedded, the default) or PostgreSQL, through database/sql.
//
// Open takes one string that names the database:
//
//	sqlite:/var/lib/ordersync/orders.db
//	postgres://user:password@127.0.0.1:5432/ordersync?sslmode=disable
//
// and creates or upgrades the schema (docs/schema.md) before it returns.
// Each database's code is linked by importing its subpackage, as
// database/sql drivers are, so a program carries only the one it uses:
//
//	import _ "github.com/ordersync/ordersync/orderstore/sqlstore/sqlite"
//	import _ "github.com/ordersync/ordersync/orderstore/sqlstore/postgres"
//
// Open of a database whose subpackage is not imported fails with
// ErrDriverNotLinked and names the import to add. A
// database whose schema is newer than this package's is refused with
// ErrNewerSchema; one that cannot be read or written, or that another
// process keeps locked, is refused with an error that says so.
//
// Orders are stored one row each, keyed by their 32-byte order hash, with
// the order's JSON exactly as it goes on the wire and the fields a filter or
// an operator asks about in columns of their own. OrdersAfter is one range
// query on the primary key, so serving a page costs the page, whatever the
// table holds: the store keeps nothing per order in memory.
//
// Writes go through one writer goroutine that commits the AddOrders calls
// waiting at that moment in one transaction (a group commit). An order that
// AddOrders reported as added is committed: on SQLite, with synchronous=FULL
// in WAL mode, it survives the process being killed and the machine losing
// power. A crash mid-transaction leaves none of that transaction's orders.
// Readers run concurrently with the writer and with each other.
//
// Given WithExpiry, a Store refuses expired orders, leaves them out of
// every read, and deletes them in small transactions as they expire;
// given WithCapacity, it holds at most that many orders, evicting the
// unpinned ones that expire last (AddPinnedOrders pins). Both judge as
// orderstore.Memory does, with the same errors and change feed
// (docs/schema.md, version 4).
//
// Several processes may share one PostgreSQL database: each commit also
// appends its changes to a change log in the database, and every Store
// reads the others' changes from it a few times a second, so that its
// reconciliation index and Version follow their writes and removals.
package sqlstore
