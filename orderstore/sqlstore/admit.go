package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// lifeRequest is what a write request carries when the writer must judge
// its orders (a store with expiry or a capacity, AdmitOrders,
// AddPinnedOrders) or prune: the writer decides in its transaction, where
// no other write of this process can come between the check and the
// insert.
type lifeRequest struct {
	pinned bool
	// fate is what became of the orders the writer did not simply
	// insert or find held, by hash; added, the hashes it inserted.
	fate  map[common.Hash]orderstore.Admission
	added map[common.Hash]bool
	// err fails this request alone (orderstore.ErrFull): it stored
	// nothing, the others of its group go on.
	err error
	// prune, when positive, makes the request delete up to that many
	// expired orders instead (prune.go).
	prune int
}

// AdmitOrders is AddOrders, saying what became of each order (see
// orderstore.Admitter).
func (s *Store) AdmitOrders(ctx context.Context, orders []*zeroex.SignedOrder) ([]orderstore.Admission, error) {
	adm := make([]orderstore.Admission, len(orders))
	if _, err := s.admit(ctx, orders, false, adm); err != nil {
		return nil, err
	}
	return adm, nil
}

// AddPinnedOrders is AddOrders for the operator's own orders (see
// orderstore.Pinner): they are stored beyond MaxExpiration and never
// evicted, and an order held already becomes pinned. Pinning matters only
// to a store WithCapacity; the pin is kept in the database.
func (s *Store) AddPinnedOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	return s.admit(ctx, orders, true, nil)
}

// admit adds orders, pinned or not, through the writer's judgment, and
// returns how many were new; adm, when not nil, gets what became of each.
func (s *Store) admit(ctx context.Context, orders []*zeroex.SignedOrder, pinned bool, adm []orderstore.Admission) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(orders) == 0 {
		return 0, nil
	}
	req, err := s.addRequest(ctx, orders)
	if err != nil {
		return 0, err
	}
	req.life = &lifeRequest{pinned: pinned}
	n, err := s.submit(req)
	if err != nil || adm == nil {
		return n, err
	}
	first := make(map[common.Hash]bool, len(orders))
	for i, o := range orders {
		h, _ := o.ComputeOrderHash() // Hashed by addRequest.
		if a, ok := req.life.fate[h]; ok {
			adm[i] = a
		} else if req.life.added[h] && !first[h] {
			adm[i] = orderstore.Admitted
			first[h] = true
		} else {
			adm[i] = orderstore.AlreadyHeld
		}
	}
	return n, nil
}

// screen is the writer's judgment of req's orders before it inserts them:
// it drops from req.rows the orders expired now and, unless they are
// pinned, those beyond MaxExpiration, recording why, and fails req with
// ErrFull when pinned orders leave no room. It returns only the
// database's errors.
func (s *Store) screen(ctx context.Context, tx *sql.Tx, req *writeRequest) error {
	lr := req.life
	if lr.fate == nil {
		// Kept when the group runs again after a stored hash failed
		// it: the orders screened out then are not in req.rows now.
		lr.fate = make(map[common.Hash]orderstore.Admission)
	}
	lr.added = make(map[common.Hash]bool, len(req.rows))
	if s.lim == nil {
		return nil
	}
	cutoff, maxExp := s.lim.cutoff(), s.lim.maxExpiration.Load()
	earliest := int64(math.MaxInt64)
	kept := req.rows[:0]
	var beyond [][]byte
	for _, r := range req.rows {
		exp, h := r[expirationColumn].(int64), r[0].([]byte)
		switch {
		case exp <= cutoff:
			lr.fate[common.Hash(h)] = orderstore.RefusedExpired
		case !lr.pinned && exp > maxExp:
			lr.fate[common.Hash(h)] = orderstore.RefusedMaxExpiration
			beyond = append(beyond, h)
		default:
			kept = append(kept, r)
			earliest = min(earliest, exp)
		}
	}
	req.rows = kept
	if len(beyond) > 0 {
		held, err := s.heldOf(ctx, tx, "", beyond)
		if err != nil {
			return err
		}
		for h := range held {
			lr.fate[h] = orderstore.AlreadyHeld
		}
	}
	if err := s.checkRoom(ctx, tx, req); err != nil {
		if lr.err == nil {
			return err
		}
		req.rows = nil
		return nil
	}
	s.lowerNext(earliest)
	return nil
}

// expirationColumn is the index of expiration_time_seconds in a row.
const expirationColumn = 9

// checkRoom sets req.life.err when the store cannot make room for req's
// orders because pinned orders fill it (orderstore.Capped). Its own error
// is the database's.
func (s *Store) checkRoom(ctx context.Context, tx *sql.Tx, req *writeRequest) error {
	c := s.lim.capacity
	if c == 0 || len(req.rows) == 0 {
		return nil
	}
	var pinned int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE pinned = 1").Scan(&pinned); err != nil {
		return err
	}
	if !req.life.pinned && pinned < c {
		return nil
	}
	hashes := make([][]byte, len(req.rows))
	for i, r := range req.rows {
		hashes[i] = r[0].([]byte)
	}
	if !req.life.pinned {
		held, err := s.heldOf(ctx, tx, "", hashes)
		if err != nil {
			return err
		}
		if len(held) < len(unique(hashes)) {
			req.life.err = fmt.Errorf("%w: all %d orders it may hold are pinned", orderstore.ErrFull, c)
			return req.life.err
		}
		return nil
	}
	held, err := s.heldOf(ctx, tx, "pinned = 1 AND ", hashes)
	if err != nil {
		return err
	}
	fresh := len(unique(hashes)) - len(held)
	if pinned+fresh > c {
		req.life.err = fmt.Errorf("%w: %d orders pinned and %d more to pin, capacity %d", orderstore.ErrFull, pinned, fresh, c)
		return req.life.err
	}
	return nil
}

// unique is the set of hashes.
func unique(hashes [][]byte) map[common.Hash]bool {
	set := make(map[common.Hash]bool, len(hashes))
	for _, h := range hashes {
		set[common.Hash(h)] = true
	}
	return set
}

// heldOf returns which of hashes the table holds, of the rows that also
// meet cond (empty, or a condition followed by "AND ").
func (s *Store) heldOf(ctx context.Context, tx *sql.Tx, cond string, hashes [][]byte) (map[common.Hash]bool, error) {
	held := make(map[common.Hash]bool)
	for start := 0; start < len(hashes); start += hashesPerLookup {
		chunk := hashes[start:min(start+hashesPerLookup, len(hashes))]
		var q strings.Builder
		q.WriteString("SELECT hash FROM orders WHERE " + cond + "hash IN (")
		args := make([]any, len(chunk))
		for i, h := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(s.d.placeholder(i + 1))
			args[i] = h
		}
		q.WriteByte(')')
		rows, err := tx.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var h []byte
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, err
			}
			held[common.BytesToHash(h)] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return held, nil
}

// noteAdded records the orders req inserted (added) and pins req's orders
// if it pins: those it inserted and those held already.
func (s *Store) noteAdded(ctx context.Context, tx *sql.Tx, req *writeRequest, added []change) error {
	for _, c := range added {
		req.life.added[c.hash] = true
	}
	if !req.life.pinned || len(req.rows) == 0 {
		return nil
	}
	for start := 0; start < len(req.rows); start += hashesPerLookup {
		chunk := req.rows[start:min(start+hashesPerLookup, len(req.rows))]
		var q strings.Builder
		q.WriteString("UPDATE orders SET pinned = 1 WHERE pinned = 0 AND hash IN (")
		args := make([]any, len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(s.d.placeholder(i + 1))
			args[i] = r[0]
		}
		q.WriteByte(')')
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// evictOver makes the table hold no more than the capacity once the
// group's changes are in: it deletes the unpinned orders that expire last
// and lowers MaxExpiration below them. An order the group itself inserted
// and now evicts was never stored as far as anyone else can tell: it
// leaves added, its request's count and the feed, and is refused with
// RefusedMaxExpiration. The others are reported as ChangeEvicted.
func (s *Store) evictOver(ctx context.Context, tx *sql.Tx, group []*writeRequest, counts []int, added, removed []change) ([]change, []change, error) {
	c := s.lim.capacity
	over := s.lim.count.Load() + int64(len(added)-len(removed)) - int64(c)
	if c == 0 || over <= 0 {
		return added, removed, nil
	}
	rows, err := tx.QueryContext(ctx, "DELETE FROM orders WHERE hash IN (SELECT hash FROM orders WHERE pinned = 0 ORDER BY expiration_time_seconds DESC LIMIT "+s.d.placeholder(1)+") RETURNING "+leftColumns, over)
	if err != nil {
		return nil, nil, err
	}
	evicted, err := s.scanLeft(rows, nil, orderstore.ChangeEvicted)
	if err != nil {
		return nil, nil, err
	}
	owner := make(map[common.Hash]int)
	for i, req := range group {
		if req.life != nil {
			for h := range req.life.added {
				owner[h] = i
			}
		}
	}
	own := make(map[common.Hash]bool)
	for _, e := range evicted {
		s.lim.lowered = min(s.lim.lowered, e.expiration-1)
		i, mine := owner[e.hash]
		if !mine {
			removed = append(removed, e.change)
			continue
		}
		own[e.hash] = true
		counts[i]--
		delete(group[i].life.added, e.hash)
		group[i].life.fate[e.hash] = orderstore.RefusedMaxExpiration
	}
	if len(own) > 0 {
		kept := added[:0]
		for _, a := range added {
			if !own[a.hash] {
				kept = append(kept, a)
			}
		}
		added = kept
	}
	return added, removed, nil
}

// leftColumns are what a DELETE of the store's own (expiry, eviction)
// returns: what the index, the feed and MaxExpiration need.
const leftColumns = "hash, chain_id, exchange_address, order_json, expiration_time_seconds"

// leaving is a row that a DELETE of leftColumns returned.
type leaving struct {
	change
	expiration int64
}

// scanLeft reads the rows of a DELETE ... RETURNING leftColumns as changes
// of kind, decoding the orders for the change feed when it has
// subscribers, appends them to left and closes rows.
func (s *Store) scanLeft(rows *sql.Rows, left []leaving, kind orderstore.ChangeKind) ([]leaving, error) {
	defer rows.Close()
	feed := s.feed.Active()
	for rows.Next() {
		var l leaving
		var hash, js []byte
		if err := rows.Scan(&hash, &l.chainID, &l.exchange, &js, &l.expiration); err != nil {
			return nil, err
		}
		l.hash, l.kind = common.BytesToHash(hash), kind
		if feed {
			o := new(zeroex.SignedOrder)
			if o.UnmarshalJSON(js) == nil {
				l.order = o
			}
		}
		left = append(left, l)
	}
	return left, rows.Err()
}
