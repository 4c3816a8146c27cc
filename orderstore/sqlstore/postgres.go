package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

// openPostgres opens the PostgreSQL database that url names, through pgx's
// database/sql driver, and brings its schema up to date. Readers and the
// writer share one pool; the writer still commits one group at a time.
func openPostgres(ctx context.Context, url string, cfg config) (*Store, error) {
	name := redact(url)
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	db.SetMaxOpenConns(cfg.readers + 1)
	db.SetMaxIdleConns(cfg.readers + 1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: cannot connect: %w", name, err)
	}
	// A bulk load whose process died left its indexes to build
	// (postgres_bulk.go): before migrating, which may change them.
	if err := buildPostgresDeferredIndexes(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: finish an interrupted bulk load: %w", name, err)
	}
	if err := migrate(ctx, db, postgresDialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	s := newStore(postgresDialect, name, db, db)
	if err := s.startFollowing(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlstore: %s: %w", name, err)
	}
	return s, nil
}

// PostgreSQL binds a whole column of values as one array parameter, and
// unnest turns the arrays back into rows, so one statement of a fixed text
// carries any number of rows. Against a multi-row VALUES of 12 parameters
// a row, that is one round trip a request instead of one per 128 rows, one
// prepared statement instead of a leftover one of each length, and far less
// work binding: per column rather than per value, on both sides.

// arrayInsertSQL is the INSERT of a request's rows, column by column, that
// leaves stored hashes alone. added_at is one value for the whole request.
const arrayInsertSQL = `INSERT INTO orders (` + orderColumns + `)
	SELECT h, c, x, m, t, f, s, ma, ta, e, $11, j
	FROM unnest($1::bytea[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[],
		$7::bytea[], $8::bytea[], $9::bytea[], $10::bigint[], $12::bytea[])
		AS r (h, c, x, m, t, f, s, ma, ta, e, j)
	ON CONFLICT (hash) DO NOTHING
	RETURNING hash, chain_id, exchange_address`

// rowsPerArrayInsert bounds the rows one array INSERT carries, and so the
// size of one message to the server (rows are about 1 KiB).
const rowsPerArrayInsert = 4096

// insertArrays is insert for PostgreSQL: rows, which share one added_at,
// in statements of up to rowsPerArrayInsert rows.
func (s *Store) insertArrays(ctx context.Context, tx *sql.Tx, rows []row, added []change) ([]change, error) {
	for start := 0; start < len(rows); start += rowsPerArrayInsert {
		chunk := rows[start:min(start+rowsPerArrayInsert, len(rows))]
		args := make([]any, numColumns)
		for j := range numColumns {
			switch j {
			case 1: // chain_id, NULL for a chain ID beyond int64
				ids := make([]int64, len(chunk))
				col := make([]*int64, len(chunk))
				for i := range chunk {
					if id, ok := chunk[i][j].(int64); ok {
						ids[i] = id
						col[i] = &ids[i]
					}
				}
				args[j] = col
			case expirationColumn:
				col := make([]int64, len(chunk))
				for i := range chunk {
					col[i] = chunk[i][j].(int64)
				}
				args[j] = col
			case addedAtColumn:
				args[j] = chunk[0][j]
			default:
				col := make([][]byte, len(chunk))
				for i := range chunk {
					col[i] = chunk[i][j].([]byte)
				}
				args[j] = col
			}
		}
		res, err := tx.QueryContext(ctx, arrayInsertSQL, args...)
		if err != nil {
			return nil, err
		}
		if added, err = scanChanges(res, added); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// addedAtColumn is the index of added_at in a row.
const addedAtColumn = 10

// arrayLookupSQL is GetMany's query on PostgreSQL: the hashes as one array.
const arrayLookupSQL = "SELECT hash, order_json FROM orders WHERE hash = ANY($1::bytea[])"

// getManyArray is GetMany for PostgreSQL: one query, however many hashes.
func (s *Store) getManyArray(ctx context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error) {
	keys := make([][]byte, len(hashes))
	for i := range hashes {
		keys[i] = hashes[i][:]
	}
	live, cutoff := s.liveOnly(2)
	found := make(map[common.Hash]*zeroex.SignedOrder, len(hashes))
	if err := s.lookupInto(ctx, arrayLookupSQL+live, append([]any{keys}, cutoff...), found); err != nil {
		return nil, err
	}
	out := make([]*zeroex.SignedOrder, len(hashes))
	for i, h := range hashes {
		out[i] = found[h]
	}
	return out, nil
}

// scanChanges appends the rows of RETURNING hash, chain_id,
// exchange_address to changes, and closes rows. The array INSERT returns
// the whole key: finding each hash among thousands of rows would cost more.
func scanChanges(rows *sql.Rows, changes []change) ([]change, error) {
	defer rows.Close()
	for rows.Next() {
		var c change
		var hash sql.RawBytes // copied into c.hash
		if err := rows.Scan(&hash, &c.chainID, &c.exchange); err != nil {
			return nil, err
		}
		c.hash = common.BytesToHash(hash)
		changes = append(changes, c)
	}
	return changes, rows.Err()
}
