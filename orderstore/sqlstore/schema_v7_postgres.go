package sqlstore

// Version 7 (PostgreSQL): the change log keeps a row a transaction.
//
// Version 3's ordersync_changes held a row and a primary-key entry for
// every order a transaction added or removed: about 11 % of a sync's WAL.
// ordersync_change_sets holds one row for each transaction's changes (a
// large one's in sets of up to changesPerSet), numbered as before by the
// head: a set's changes are last - n + 1 to last, packed in changes
// (changelog.go). The per-order table goes: a process of version 5 still
// running fails its writes at version 6 already, and every process of this
// version opened after the migration starts reading at the head.

var postgresVersion7 = []string{
	`DROP TABLE ordersync_changes`,
	`CREATE TABLE ordersync_change_sets (
		last    bigint  NOT NULL PRIMARY KEY,
		n       integer NOT NULL,
		writer  bigint  NOT NULL,
		changes bytea   NOT NULL
	)`,
}
