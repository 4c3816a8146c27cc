package sqlstore

// Version 5 (PostgreSQL): the class in the primary key, one index fewer for
// every insert.
//
// As on SQLite (schema_v5.go), an order's hash decides its class, so the
// primary key's index can carry the class as included (non-key) columns
// and serve the reconciliation index's scan (hash, chain ID, exchange) as
// an index-only scan, the scan orders_by_class served. The key is still
// the hash alone, so ON CONFLICT (hash) and lookups by hash are as before,
// and a NULL chain ID (beyond int64) is no concern: it is not a key column.
// An insert then writes the table, the primary key and
// orders_by_expiration, three B-trees where version 4 wrote four.

var postgresVersion5 = []string{
	`ALTER TABLE orders DROP CONSTRAINT orders_pkey`,
	`ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (hash) INCLUDE (chain_id, exchange_address)`,
	`DROP INDEX orders_by_class`,
}
