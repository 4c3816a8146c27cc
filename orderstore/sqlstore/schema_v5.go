package sqlstore

// Version 5 (SQLite): one index fewer for every insert.
//
// An order's hash is computed over its EIP-712 domain, which is its chain
// ID and exchange, so the hash alone decides the order's class. The unique
// index on the hash can therefore carry the class too, and serve the
// reconciliation index's scan (hash, chain ID, exchange) that
// orders_by_class served: an insert then writes the table, this index and
// orders_by_expiration, three B-trees where version 4 wrote four. On a
// sync every order lands on a random page of each index but the table's,
// so each index dropped saves about one dirtied page per order in the WAL.
//
// A unique index counts NULLs as distinct, and chain_id is NULL for a chain
// ID beyond int64. orders_by_hash_unchained, a partial index holding only
// those rows, keeps their hashes unique: it costs the other rows nothing.
// AddOrders' INSERT names no conflict target, so either index stops a
// stored hash.

var sqliteVersion5 = []string{
	`DROP INDEX orders_by_class`,
	`DROP INDEX orders_by_hash`,
	`CREATE UNIQUE INDEX orders_by_hash ON orders (hash, chain_id, exchange_address)`,
	`CREATE UNIQUE INDEX orders_by_hash_unchained ON orders (hash) WHERE chain_id IS NULL`,
}
