package sqlstore

// Version 6 (PostgreSQL): the columns order_json repeats go.
//
// maker_address, taker_address, fee_recipient_address, sender_address,
// maker_asset_data and taker_asset_data repeat what order_json holds, and
// nothing on PostgreSQL queries them (orders_by_maker went in version 3;
// every read decodes order_json): about 175 bytes a row of heap and WAL,
// and of every INSERT's parameters. SQLite keeps them (its version 3 copy
// and bulk load name them). DROP COLUMN only marks them dropped: rows
// written before keep their bytes until rewritten, new rows have none.
//
// A process of an older version still running on the database fails its
// next INSERT ("column does not exist") and commits nothing; one starting
// later refuses the database's newer schema (ErrNewerSchema).

var postgresVersion6 = []string{
	`ALTER TABLE orders DROP COLUMN maker_address, DROP COLUMN taker_address,
		DROP COLUMN fee_recipient_address, DROP COLUMN sender_address,
		DROP COLUMN maker_asset_data, DROP COLUMN taker_asset_data`,
}

// postgresOrderColumns are the columns AddOrders writes on PostgreSQL
// (version 6), in packedInsertRows' order.
const postgresOrderColumns = "hash, chain_id, exchange_address, expiration_time_seconds, added_at, order_json"
