package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	_ "github.com/ordersync/ordersync/orderstore/sqlstore/postgres" // --db postgres://
	_ "github.com/ordersync/ordersync/orderstore/sqlstore/sqlite"   // --db sqlite:
	"github.com/ordersync/ordersync/zeroex"
)

// dbUsage is the help text of serve's and sync's --db.
const dbUsage = "order `database` to keep orders in across runs: sqlite:PATH (created if missing) or a postgres:// URL"

// importChunk is how many orders an import reads, verifies and stores at a
// time. Three chunks are in memory at once (one read and verified, one
// waiting, one being written), so the chunk bounds the import's memory
// whatever the file holds: about 210 MiB at 8 000 orders. Each chunk is one
// transaction, and a transaction writes every index page its orders touch:
// 8 000-order transactions wrote 1.0 GB for a 300 MB database of 200 000
// orders where 2 000-order ones wrote 2.2 GB (docs/schema.md).
const importChunk = 8_000

// openDB opens the order database of a --db flag with the expiry and
// capacity of lim, as node opens its own. The caller closes it.
func openDB(ctx context.Context, dsn string, lim *dbLimits) (*sqlstore.Store, error) {
	return sqlstore.Open(ctx, dsn, lim.options()...)
}

// dbLimits are serve's and sync's flags for the life of the orders in a
// --db database: the same as node's (--expiry-margin, --max-orders), so
// that a database never serves or keeps an expired order.
type dbLimits struct {
	expiryMargin time.Duration
	maxOrders    int
}

// addDBLimitFlags defines --expiry-margin on fs, and --max-orders if
// capacity is set.
func addDBLimitFlags(fs *flag.FlagSet, capacity bool) *dbLimits {
	l := &dbLimits{}
	fs.DurationVar(&l.expiryMargin, "expiry-margin", 0, "with --db: orders within this `delay` of their expiration count as expired: never served, refused, dropped from the database")
	if capacity {
		fs.IntVar(&l.maxOrders, "max-orders", 0, "with --db: most orders the database keeps: when full it evicts those that expire last (0: no bound)")
	}
	return l
}

// check refuses what cannot work.
func (l *dbLimits) check() error {
	switch {
	case l.maxOrders < 0:
		return cli.Usagef("--max-orders %d: want 0 or more", l.maxOrders)
	case l.expiryMargin < 0:
		return cli.Usagef("--expiry-margin %v: must not be negative", l.expiryMargin)
	}
	return nil
}

// options are the database's options.
func (l *dbLimits) options() []sqlstore.Option {
	return []sqlstore.Option{sqlstore.WithExpiry(l.expiryMargin), sqlstore.WithCapacity(l.maxOrders)}
}

// importOrders reads the order file into the database, verifying every
// order on the way in (the only time it is verified), and reports on
// stderr like loadStoreAs.
func importOrders(ctx context.Context, cmd, path string, db *sqlstore.Store, stderr io.Writer, log logrus.FieldLogger) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Into a new database, the secondary indexes are built once at the
	// end instead of being kept up in every transaction (docs/schema.md).
	endLoad, err := db.StartBulkLoad(ctx)
	if err != nil {
		return err
	}
	res, err := importFrom(ctx, f, path, db, importChunk)
	if endErr := endLoad(ctx); err == nil {
		err = endErr
	}
	if res.firstBad != nil {
		log.WithError(res.firstBad).Warn("dropping orders whose signature does not verify")
	}
	if err != nil {
		return fmt.Errorf("import %s into %s: %w", path, db, err)
	}
	fmt.Fprintf(stderr, "%s: %s: %d orders, %d verified, %d rejected (%s), %d new in %s\n",
		cmd, path, res.read, res.verified, res.dropped.Total(), res.dropped, res.added, db)
	return nil
}

// importNewSQLite imports the order file into a SQLite database of the dsn
// that does not exist yet, through sqlstore.LoadNewSQLite: the new file
// appears, whole, only once the import is done. It reports whether it
// did; with no order file, another kind of database or one that exists,
// it leaves the import to importOrders.
func importNewSQLite(ctx context.Context, cmd, orders, dsn string, lim *dbLimits, stderr io.Writer, log logrus.FieldLogger) (bool, error) {
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if orders == "" || !ok {
		return false, nil
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	// The import's report waits for the rename: until then nothing is
	// stored.
	var report bytes.Buffer
	err := sqlstore.LoadNewSQLite(ctx, path, func(ctx context.Context, db *sqlstore.Store) error {
		return importOrders(ctx, cmd, orders, db, &report, log)
	}, lim.options()...)
	if err != nil {
		return false, err
	}
	_, err = report.WriteTo(stderr)
	return true, err
}

// importResult counts what an import did.
type importResult struct {
	read, verified, added int
	dropped               cli.Rejections
	firstBad              error // the first rejected order's error, if any
}

// importFrom reads the orders of r in chunks of chunkSize, verifies each
// chunk on all cores and adds what verifies to store. Reading and
// verifying the next chunk overlaps with writing this one, which is the
// writer's single thread: the import takes about as long as the slower of
// the two, not their sum.
func importFrom(ctx context.Context, r io.Reader, name string, store orderstore.Store, chunkSize int) (importResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := importResult{dropped: cli.Rejections{}}
	chunks := make(chan []*zeroex.SignedOrder, 1) // verified, for the writer
	scanned := make(chan error, 1)
	go func() {
		defer close(chunks)
		chunk := make([]*zeroex.SignedOrder, 0, chunkSize)
		send := func() error {
			valid, bad, first := cli.VerifyOrders(chunk)
			if res.firstBad == nil && first != nil {
				res.firstBad = fmt.Errorf("in the orders from %d on: %w", res.read-len(chunk), first)
			}
			for reason, n := range bad {
				res.dropped[reason] += n
			}
			res.verified += len(valid)
			// valid is a slice of its own: chunk can take the next orders.
			clear(chunk)
			chunk = chunk[:0]
			select {
			case chunks <- valid:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := cli.ScanOrders(r, name, func(o *zeroex.SignedOrder) error {
			res.read++
			chunk = append(chunk, o)
			if len(chunk) < chunkSize {
				return nil
			}
			return send()
		})
		if err == nil && len(chunk) > 0 {
			err = send()
		}
		scanned <- err
	}()
	var writeErr error
	for valid := range chunks {
		if writeErr != nil {
			continue // Drain, so that the reader ends.
		}
		n, err := store.AddOrders(ctx, valid)
		res.added += n
		if err != nil {
			writeErr = err
			cancel() // Stop the reader.
		}
	}
	// The reader has finished: res is all the reader's to read now.
	scanErr := <-scanned
	if writeErr != nil {
		return res, writeErr
	}
	return res, scanErr
}

// teeStore is sync's store when it writes both --db and --out: the
// database is the store (pages, lookups, the new count), and every order
// added is also kept in memory for the --out file.
type teeStore struct {
	db  *sqlstore.Store
	out *orderstore.Memory
}

var (
	_ orderstore.Store  = teeStore{}
	_ orderstore.Getter = teeStore{}
)

func (t teeStore) OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	return t.db.OrdersAfter(ctx, after, limit)
}

func (t teeStore) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	n, err := t.db.AddOrders(ctx, orders)
	if err != nil {
		return n, err
	}
	_, err = t.out.AddOrders(ctx, orders)
	return n, err
}

func (t teeStore) Get(hash common.Hash) (*zeroex.SignedOrder, bool) { return t.db.Get(hash) }
