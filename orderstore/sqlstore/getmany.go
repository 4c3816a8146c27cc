package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

var _ orderstore.ManyGetter = (*Store)(nil)

// hashesPerLookup is how many hashes one GetMany query asks for: a
// requester's page, well below either database's parameter limit.
const hashesPerLookup = 500

// GetMany returns the stored order of each hash, nil where the store holds
// none: one query per 500 hashes (on PostgreSQL one in all), where Get is
// one per hash (a round trip each on PostgreSQL).
func (s *Store) GetMany(ctx context.Context, hashes []common.Hash) ([]*zeroex.SignedOrder, error) {
	if s.d.arrays {
		return s.getManyArray(ctx, hashes)
	}
	out := make([]*zeroex.SignedOrder, len(hashes))
	found := make(map[common.Hash]*zeroex.SignedOrder, min(len(hashes), hashesPerLookup))
	for start := 0; start < len(hashes); start += hashesPerLookup {
		chunk := hashes[start:min(start+hashesPerLookup, len(hashes))]
		clear(found)
		args := make([]any, len(chunk))
		var q strings.Builder
		q.WriteString("SELECT hash, order_json FROM orders WHERE hash IN (")
		for i, h := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(s.d.placeholder(i + 1))
			args[i] = h.Bytes()
		}
		q.WriteByte(')')
		live, cutoff := s.liveOnly(len(chunk) + 1)
		q.WriteString(live)
		if err := s.lookupInto(ctx, q.String(), append(args, cutoff...), found); err != nil {
			return nil, err
		}
		for i, h := range chunk {
			out[start+i] = found[h]
		}
	}
	return out, nil
}

// lookupInto runs a GetMany query and puts each order found into found,
// under the hash its row is stored by.
//
// Unlike a page (OrdersAfter) it does not hash the decoded order to check
// it against that key: on a sync every page of orders held already comes
// here, twice, and the Keccak was two thirds of the lookup. The hash column
// is the one AddOrders computed from the order itself; what reads the
// result (a requester skipping the signatures it checked before, news
// serving an order to a peer that hashes it anyway) needs no more.
func (s *Store) lookupInto(ctx context.Context, query string, args []any, found map[common.Hash]*zeroex.SignedOrder) error {
	var rows *sql.Rows
	var err error
	stmt, release := s.lookups.get(ctx, s.read, query)
	defer release()
	if stmt != nil {
		rows, err = stmt.QueryContext(ctx, args...)
	} else {
		rows, err = s.read.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return s.readError(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, js sql.RawBytes
		if err := rows.Scan(&key, &js); err != nil {
			return s.readError(ctx, err)
		}
		o := new(zeroex.SignedOrder)
		if err := o.UnmarshalJSON(js); err != nil || len(key) != common.HashLength {
			return s.errorf("row %x: stored order does not decode: %w", []byte(key), err)
		}
		found[common.Hash(key)] = o
	}
	return s.readError(ctx, rows.Err())
}

// keptLookups is how many GetMany queries (by number of hashes) a store
// keeps prepared: a sync asks for pages of one size.
const keptLookups = 4

// statementCache keeps the last few queries of one kind prepared, on
// SQLite, where compiling a 500-hash query costs as much as a tenth of
// running it. PostgreSQL's driver keeps its own cache, so there the cache
// is off.
type statementCache struct {
	off    bool
	mu     sync.Mutex
	byText map[string]*cachedStatement
	order  []string // oldest first
}

// cachedStatement is a prepared statement and how many queries use it: one
// that leaves the cache is closed when the last of them ends.
type cachedStatement struct {
	stmt  *sql.Stmt
	users int
	gone  bool
}

// get is query prepared on db, or nil (when the cache is off, or the query
// does not prepare: the caller then runs it unprepared, which reports the
// error). Call release when the query is done with the statement.
func (c *statementCache) get(ctx context.Context, db *sql.DB, query string) (stmt *sql.Stmt, release func()) {
	if c.off {
		return nil, func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.byText[query]
	if !ok {
		prepared, err := db.PrepareContext(ctx, query)
		if err != nil {
			return nil, func() {}
		}
		cs = &cachedStatement{stmt: prepared}
		if c.byText == nil {
			c.byText = make(map[string]*cachedStatement)
		}
		c.byText[query] = cs
		c.order = append(c.order, query)
		if len(c.order) > keptLookups {
			oldest := c.byText[c.order[0]]
			delete(c.byText, c.order[0])
			c.order = slices.Delete(c.order, 0, 1)
			oldest.gone = true
			if oldest.users == 0 {
				oldest.stmt.Close()
			}
		}
	}
	cs.users++
	return cs.stmt, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		cs.users--
		if cs.gone && cs.users == 0 {
			cs.stmt.Close()
		}
	}
}
