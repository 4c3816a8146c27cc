package sqlstore

// Version 4: an order's life (expiry, capacity, pinning; life.go).
//
// pinned marks the operator's orders, which a full store keeps before any
// other. orders_by_expiration becomes (pinned, expiration_time_seconds):
// still one index entry per insert, and now it serves both questions a
// store with a life asks, "which orders expired by now" (both values of
// pinned, a range each) and "which unpinned orders expire last" (eviction,
// the end of the pinned = 0 range). Adding a column with a constant
// default rewrites no row in either database.

var sqliteVersion4 = []string{
	`ALTER TABLE orders ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0`,
	`DROP INDEX orders_by_expiration`,
	`CREATE INDEX orders_by_expiration ON orders (pinned, expiration_time_seconds)`,
}

var postgresVersion4 = []string{
	`ALTER TABLE orders ADD COLUMN pinned smallint NOT NULL DEFAULT 0`,
	`DROP INDEX orders_by_expiration`,
	`CREATE INDEX orders_by_expiration ON orders (pinned, expiration_time_seconds)`,
	// Why an order left, as orderstore.ChangeKind (0 in rows logged
	// before version 4: removed), so that other processes' change feeds
	// say expired or evicted too.
	`ALTER TABLE ordersync_changes ADD COLUMN kind smallint NOT NULL DEFAULT 0`,
}
