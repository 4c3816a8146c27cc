package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

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
// carries any number of rows: one round trip a request, one prepared
// statement, and binding per column rather than per value.
//
// The byte columns go further: a chunk's bytes travel as one bytea, each
// row's values one after the other, and the statement cuts them apart with
// substring, at offsets bound as integer arrays. pgx encodes a bytea[]
// value by value, through reflection, appending each to a buffer that grows
// by a quarter at a time: with the Bind message, about 7 KB of garbage for
// each 1.3 KB order. One bytea, bound last, after the small arrays, is one
// append into each buffer, of about its size.

// packedInsertSQL is the INSERT of a chunk's rows that leaves stored
// hashes alone: $1 to $4 are a row's chain ID, expiration, offset in $6
// and the length of its order_json; $5 is added_at, one value for the
// whole chunk; $6 is every row's bytes (pack). Only the hash comes back:
// the writer has the rest of each new row's key.
const packedInsertSQL = packedInsertRows + `
	ON CONFLICT (hash) DO NOTHING
	RETURNING hash`

// plainInsertSQL is packedInsertSQL without ON CONFLICT, for rows the
// writer expects to be new (conflicts.go): a stored hash fails it, so when
// it succeeds it inserted every row, and nothing need come back.
const plainInsertSQL = packedInsertRows

// packedInsertRows is the INSERT of the rows packed in $1 to $6.
const packedInsertRows = `INSERT INTO orders (` + postgresOrderColumns + `)
	SELECT substring(b FROM o + 1 FOR 32), c, substring(b FROM o + 33 FOR 20),
		e, $5, substring(b FROM o + 53 FOR jl)
	FROM unnest($1::bigint[], $2::bigint[], $3::integer[], $4::integer[])
		AS r (c, e, o, jl),
		(SELECT $6::bytea) AS p (b)`

// packedWidths are the widths of a packed row's fixed values, in $6's
// order: the hash and the exchange address (row's values 0 and 2).
var packedWidths = [...]struct{ column, width int }{{0, 32}, {2, 20}}

// packedFixed is the bytes of a packed row before its order_json.
const packedFixed = 52

// Bounds on one packed INSERT: its rows, and the bytes of its rows (rows
// are about 1.2 KiB, and the offsets are 32-bit).
const (
	rowsPerArrayInsert  = 4096
	bytesPerArrayInsert = 64 << 20
)

// insertArrays is insert for PostgreSQL: rows, which share one added_at
// and are sorted by hash, in packed INSERTs of up to rowsPerArrayInsert
// rows and about bytesPerArrayInsert bytes.
func (s *Store) insertArrays(ctx context.Context, tx *sql.Tx, guess *conflictGuess, rows []row, added []change) ([]change, error) {
	p := packedPool.Get().(*packedRows)
	defer func() {
		if cap(p.bytes) <= maxPooledBytes {
			packedPool.Put(p)
		}
	}()
	for start := 0; start < len(rows); {
		end, err := p.pack(rows[start:])
		if err != nil {
			return nil, err
		}
		chunk := rows[start : start+end]
		args := []any{p.chains, p.expirations, p.offsets, p.jsonLens, chunk[0][addedAtColumn], p.bytes}
		start += end
		if q := guess.statement(chunk); q == plainInsertSQL {
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return nil, err
			}
			for i := range chunk {
				added = append(added, rowChange(&chunk[i]))
			}
			continue
		}
		res, err := tx.QueryContext(ctx, packedInsertSQL, args...)
		if err != nil {
			return nil, err
		}
		before := len(added)
		if added, err = scanInserted(res, chunk, added); err != nil {
			return nil, err
		}
		guess.inserted(len(added)-before, len(chunk))
	}
	return added, nil
}

// packedRows are the parameters of one packed INSERT, reused from chunk
// to chunk.
type packedRows struct {
	chains           []*int64 // NULL for a chain ID beyond int64
	ids, expirations []int64
	offsets          []int32
	jsonLens         []int32
	bytes            []byte
}

// packedPool keeps the writer's packedRows from one call to the next: a
// sync's page is about 650 KB of them. Those of a call larger than
// maxPooledBytes (an import's) are left to the GC.
var packedPool = sync.Pool{New: func() any { return new(packedRows) }}

const maxPooledBytes = 8 << 20

// pack fills p with the first rows of rows that fit one INSERT, and
// returns how many (at least one).
func (p *packedRows) pack(rows []row) (int, error) {
	n := min(len(rows), rowsPerArrayInsert)
	p.ids = slices.Grow(p.ids[:0], n)[:n]
	p.chains, p.expirations, p.offsets = p.chains[:0], p.expirations[:0], p.offsets[:0]
	p.jsonLens = p.jsonLens[:0]
	size := 0
	for i := range n {
		size += packedFixed + len(rows[i][jsonColumn].([]byte))
		if i > 0 && size > bytesPerArrayInsert {
			n = i
			break
		}
	}
	p.bytes = slices.Grow(p.bytes[:0], min(size, bytesPerArrayInsert))
	for i := range n {
		r := &rows[i]
		p.offsets = append(p.offsets, int32(len(p.bytes)))
		for _, f := range packedWidths {
			v := r[f.column].([]byte)
			if len(v) != f.width {
				return 0, fmt.Errorf("sqlstore: a row's value %d is %d bytes, not %d", f.column, len(v), f.width)
			}
			p.bytes = append(p.bytes, v...)
		}
		js := r[jsonColumn].([]byte)
		p.bytes = append(p.bytes, js...)
		p.jsonLens = append(p.jsonLens, int32(len(js)))
		var chain *int64
		if id, ok := r[1].(int64); ok {
			p.ids[i] = id
			chain = &p.ids[i]
		}
		p.chains = append(p.chains, chain)
		p.expirations = append(p.expirations, r[expirationColumn].(int64))
	}
	return n, nil
}

// addedAtColumn and jsonColumn are the indexes of added_at and order_json
// in a row.
const (
	addedAtColumn = 10
	jsonColumn    = 11
)

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
