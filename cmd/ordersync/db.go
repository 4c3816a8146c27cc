package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/zeroex"
)

// dbUsage is the help text of serve's and sync's --db.
const dbUsage = "order `database` to keep orders in across runs: sqlite:PATH (created if missing) or a postgres:// URL"

// importChunk is how many orders an import reads, verifies and stores at a
// time, so that a file of any size imports in bounded memory.
const importChunk = 10_000

// openDB opens the order database of a --db flag. The caller closes it.
func openDB(ctx context.Context, dsn string) (*sqlstore.Store, error) {
	return sqlstore.Open(ctx, dsn)
}

// importOrders reads the order file into the database, a chunk at a time,
// verifying every order on the way in (the only time it is verified), and
// reports on stderr like loadStoreAs.
func importOrders(ctx context.Context, cmd, path string, db *sqlstore.Store, stderr io.Writer, log logrus.FieldLogger) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	read, verified, added := 0, 0, 0
	dropped := rejections{}
	var firstBad error
	chunk := make([]*zeroex.SignedOrder, 0, importChunk)
	flush := func() error {
		valid, bad, first := verifyOrders(chunk)
		if firstBad == nil && first != nil {
			firstBad = fmt.Errorf("in the orders from %d on: %w", read-len(chunk), first)
		}
		for reason, n := range bad {
			dropped[reason] += n
		}
		n, err := db.AddOrders(ctx, valid)
		verified += len(valid)
		added += n
		chunk = chunk[:0]
		return err
	}
	err = scanOrders(f, path, func(o *zeroex.SignedOrder) error {
		read++
		chunk = append(chunk, o)
		if len(chunk) < importChunk {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if firstBad != nil {
		log.WithError(firstBad).Warn("dropping orders whose signature does not verify")
	}
	if err != nil {
		return fmt.Errorf("import %s into %s: %w", path, db, err)
	}
	fmt.Fprintf(stderr, "%s: %s: %d orders, %d verified, %d rejected (%s), %d new in %s\n",
		cmd, path, read, verified, dropped.Total(), dropped, added, db)
	return nil
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
