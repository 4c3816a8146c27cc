package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/orderjson"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// Store is an orderstore.Store on a SQL database, and a Getter,
// ManyGetter, Remover, Subscriber, Admitter, Pinner, Capped, Expirer and
// WholeReconciler. It is safe for concurrent use. Make one with Open (with
// WithExpiry and WithCapacity for an order's life, as Memory has); Close
// it when done.
type Store struct {
	d     *dialect
	name  string  // the database, as errors name it (no password)
	read  *sql.DB // readers' pool
	write *sql.DB // the writer's connection (SQLite) or the same pool

	// life is cancelled by Close, after the writer has finished: it
	// bounds the writer's transactions.
	life     context.Context
	stopLife context.CancelFunc

	mu         sync.RWMutex // held shared while sending to writes
	closed     bool
	writes     chan *writeRequest
	writerDone chan struct{}
	closeErr   error
	// releaseJSON ends the store's orderjson.Want.
	releaseJSON func()
	closeOnce   sync.Once

	// recMu guards the reconciliation index rec (nil until built),
	// version, which moves on every commit that changes the table, seen,
	// the last change of the database's change log (PostgreSQL) that rec
	// and version reflect, and fed.
	recMu   sync.Mutex
	rec     *orderstore.ReconcileIndex
	version uint64
	indexed atomic.Bool // rec != nil
	seen    int64
	fed     int64 // the last change of the log the feed has had

	// writerID marks this Store's changes in the change log;
	// followDone is closed when the goroutine that follows the log ends
	// (nil when there is none). See follow.go.
	writerID   int64
	followDone chan struct{}

	// feed is the change feed (orderstore.Subscriber), published to
	// under recMu as commits and other processes' changes are applied.
	feed orderstore.ChangeFeed

	// lim is expiry and capacity (life.go), nil without either; left
	// counts the orders that left, by cause.
	lim  *limits
	left leftCounts

	// ahead is what snapshots took out of the index before the pruner
	// deleted it (ahead.go).
	ahead ahead

	// lookups are GetMany's queries, prepared (getmany.go).
	lookups statementCache
}

var (
	_ orderstore.Store      = (*Store)(nil)
	_ orderstore.Getter     = (*Store)(nil)
	_ orderstore.Remover    = (*Store)(nil)
	_ orderstore.Subscriber = (*Store)(nil)
)

// newStore starts the writer of a store whose schema is ready.
func newStore(d *dialect, name string, read, write *sql.DB) *Store {
	s := &Store{
		d:          d,
		name:       name,
		read:       read,
		write:      write,
		writes:     make(chan *writeRequest, 64),
		writerDone: make(chan struct{}),
		writerID:   newWriterID(),
		lookups:    statementCache{off: d.driverCachesStatements},
	}
	s.life, s.stopLife = context.WithCancel(context.Background())
	// While the store is open, decoded orders keep the JSON they arrived
	// as, which the writer stores instead of encoding each order again.
	s.releaseJSON = orderjson.Want()
	go s.runWriter()
	return s
}

// String names the database (without its password).
func (s *Store) String() string { return s.name }

// errorf wraps an error with the store's name.
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf("sqlstore: %s: "+format, append([]any{s.name}, args...)...)
}

// Close waits for the writes under way, then closes the database. Calls
// after the first return its result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopPruner() // it writes: before the writer stops
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.writes)
		<-s.writerDone
		s.stopLife()
		if s.followDone != nil {
			<-s.followDone
		}
		s.feed.Close()
		s.releaseJSON()
		err := s.read.Close()
		if s.write != s.read {
			err = errors.Join(err, s.write.Close())
		}
		s.closeErr = err
	})
	return s.closeErr
}

// AddOrders stores orders, keyed by order hash; an order whose hash is
// stored already is skipped. It returns how many were new once they are
// committed. Orders are hashed and encoded first, on all cores: a nil order
// or one that cannot be hashed fails the call before anything is written.
// A ctx that ends while the call waits for the writer withdraws it; once
// its transaction has started, the call reports that transaction's result.
func (s *Store) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(orders) == 0 {
		return 0, nil
	}
	if s.lim != nil {
		return s.admit(ctx, orders, false, nil)
	}
	req, err := s.addRequest(ctx, orders)
	if err != nil {
		return 0, err
	}
	return s.submit(req)
}

// addRequest is the writer's request to add orders.
func (s *Store) addRequest(ctx context.Context, orders []*zeroex.SignedOrder) (*writeRequest, error) {
	rows, err := makeRows(orders)
	if err != nil {
		return nil, err
	}
	req := &writeRequest{ctx: ctx, rows: rows}
	if s.feed.Active() {
		req.orders, req.at = orders, make(map[common.Hash]int, len(orders))
		for i, o := range orders {
			h, _ := o.ComputeOrderHash() // Hashed by makeRows.
			if _, dup := req.at[h]; !dup {
				req.at[h] = i
			}
		}
	}
	return req, nil
}

// Subscribe starts a subscription to the store's change feed (see
// orderstore.Subscriber): every order this Store added or removed, and on
// PostgreSQL also every order another process sharing the database added
// or removed, once each, in the order the database committed them, within
// about 200 ms for another process's change. The Order of another process's
// change is nil when the order was gone by the time this Store read it
// (always, for a removal), and so is that of an order added by a call that
// began before the subscription. Close ends every subscription.
func (s *Store) Subscribe(buffer int) *orderstore.Subscription {
	return s.feed.Subscribe(buffer)
}

// Remove deletes the orders with the given hashes (hashes not stored are
// ignored) and returns how many it removed.
func (s *Store) Remove(ctx context.Context, hashes ...common.Hash) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(hashes) == 0 {
		return 0, nil
	}
	return s.submit(&writeRequest{ctx: ctx, remove: hashes})
}

// OrdersAfter returns up to limit orders whose hash is strictly greater than
// after, ascending by hash: one range query on the primary key. See
// orderstore.Store.
func (s *Store) OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, fmt.Errorf("sqlstore: limit %d: negative", limit)
	}
	if limit == 0 {
		return []*zeroex.SignedOrder{}, nil
	}
	// SQLite's placeholders count in the order they appear.
	live, cutoff := s.liveOnly(2)
	args := append(append([]any{after.Bytes()}, cutoff...), limit)
	rows, err := s.read.QueryContext(ctx,
		"SELECT hash, order_json FROM orders WHERE hash > "+s.d.placeholder(1)+live+" ORDER BY hash LIMIT "+s.d.placeholder(len(args)),
		args...)
	if err != nil {
		return nil, s.readError(ctx, err)
	}
	defer rows.Close()
	// limit may come from a peer: grow with what comes, not with it.
	orders := make([]*zeroex.SignedOrder, 0, min(limit, 512))
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, s.errorf("%w", err)
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readError(ctx, err)
	}
	return orders, nil
}

// Get returns the order with the given hash, if the store holds it. A
// database error reads as not held: the requester then checks the order's
// signature, which is always safe.
func (s *Store) Get(hash common.Hash) (*zeroex.SignedOrder, bool) {
	o, err := s.Lookup(context.Background(), hash)
	return o, err == nil && o != nil
}

// Lookup is Get with a context and the database's error: nil, nil when the
// order is not stored.
func (s *Store) Lookup(ctx context.Context, hash common.Hash) (*zeroex.SignedOrder, error) {
	live, args := s.liveOnly(2)
	rows, err := s.read.QueryContext(ctx, "SELECT hash, order_json FROM orders WHERE hash = "+s.d.placeholder(1)+live, append([]any{hash.Bytes()}, args...)...)
	if err != nil {
		return nil, s.readError(ctx, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, s.readError(ctx, rows.Err())
	}
	o, err := scanOrder(rows)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	return o, nil
}

// Len returns how many orders the store holds. It counts the table (with
// WithExpiry, the orders not expired).
func (s *Store) Len(ctx context.Context) (int, error) {
	var n int
	live, args := s.liveOnly(1)
	if live != "" {
		live = " WHERE pinned IN (0, 1)" + live
	}
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM orders"+live, args...).Scan(&n); err != nil {
		return 0, s.readError(ctx, err)
	}
	return n, nil
}

// eachPage is how many orders Each reads per query.
const eachPage = 1000

// Each calls fn on every stored order in ascending hash order until fn
// returns false or ctx ends (then it returns ctx's error). It reads in
// pages, so no transaction stays open and memory stays one page.
func (s *Store) Each(ctx context.Context, fn func(hash common.Hash, order *zeroex.SignedOrder) bool) error {
	var after common.Hash
	for {
		page, err := s.OrdersAfter(ctx, after, eachPage)
		if err != nil {
			return err
		}
		for _, o := range page {
			h, _ := o.ComputeOrderHash() // Cached by scanOrder.
			if !fn(h, o) {
				return nil
			}
			after = h
		}
		if len(page) < eachPage {
			return nil
		}
	}
}

// readError is err with the store's name, or ctx's error when ctx ended
// (the drivers word that differently).
func (s *Store) readError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return s.errorf("read: %w", err)
}

// scanOrder decodes the current row's order and checks that it hashes to
// its key: a row that does not is damage, reported, never served.
func scanOrder(rows *sql.Rows) (*zeroex.SignedOrder, error) {
	var key, js sql.RawBytes
	if err := rows.Scan(&key, &js); err != nil {
		return nil, err
	}
	o := new(zeroex.SignedOrder)
	if err := o.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("row %x: stored order does not decode: %w", []byte(key), err)
	}
	hash, err := o.ComputeOrderHash()
	if err != nil {
		return nil, fmt.Errorf("row %x: stored order does not hash: %w", []byte(key), err)
	}
	if !hashEquals(hash, key) {
		return nil, fmt.Errorf("row %x: stored order hashes to %s: the database is damaged", []byte(key), hash)
	}
	return o, nil
}

func hashEquals(h common.Hash, key []byte) bool {
	return len(key) == common.HashLength && common.Hash(key) == h
}
