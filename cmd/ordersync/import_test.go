package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"go.uber.org/goleak"

	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/zeroex"
)

// importFile is n generated orders as an order file, with the orders at
// the indexes in bad made to fail verification; it returns the file's
// bytes and the hashes of the orders that verify, ascending.
func importFile(t *testing.T, n int, bad ...int) ([]byte, []common.Hash) {
	t.Helper()
	orders := ordergen.Generate(ordergen.Options{Seed: 11, Count: n})
	var valid []*zeroex.SignedOrder
	for i, o := range orders {
		if slices.Contains(bad, i) {
			o.Salt.Add(o.Salt, common.Big1)
			o.ResetHash()
			continue
		}
		valid = append(valid, o)
	}
	var file bytes.Buffer
	if _, err := cli.WriteOrders(&file, slices.Values(orders)); err != nil {
		t.Fatal(err)
	}
	return file.Bytes(), orderHashes(t, valid)
}

func openTestDB(t *testing.T) (*sqlstore.Store, string) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "orders.db")
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// TestImportChunks imports a file in chunks smaller than it, with bad
// orders in more than one chunk: every good order is stored once, the
// counts add up over the chunks, the first bad order is named by its
// place in the file, and a second import of the file adds nothing.
func TestImportChunks(t *testing.T) {
	file, want := importFile(t, 23, 7, 18)
	db, dsn := openTestDB(t)
	ctx := context.Background()

	res, err := importFrom(ctx, bytes.NewReader(file), "orders.jsonl", db, 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.read != 23 || res.verified != 21 || res.added != 21 || res.dropped["wrong signer"] != 2 || res.dropped.Total() != 2 {
		t.Fatalf("import: read %d, verified %d, added %d, dropped %v; want 23, 21, 21, wrong signer 2",
			res.read, res.verified, res.added, res.dropped)
	}
	// Order 7 is the third of the chunk that starts at 5.
	if res.firstBad == nil || !strings.Contains(res.firstBad.Error(), "in the orders from 5 on: order 2:") {
		t.Errorf("first bad order: %v; want it in the chunk from 5 on, as its order 2", res.firstBad)
	}

	res, err = importFrom(ctx, bytes.NewReader(file), "orders.jsonl", db, 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.read != 23 || res.verified != 21 || res.added != 0 {
		t.Fatalf("second import: read %d, verified %d, added %d; want 23, 21, 0", res.read, res.verified, res.added)
	}
	db.Close()
	if got := dbHashes(t, dsn); !slices.Equal(got, want) {
		t.Fatalf("the database holds %d orders, not the %d that verify", len(got), len(want))
	}
}

// TestImportStops checks that an import ends, with its reader, on a
// store that fails, on a file that goes bad half-way, and on a cancelled
// context; what was stored before a bad line stays stored.
func TestImportStops(t *testing.T) {
	file, _ := importFile(t, 30)
	ctx := context.Background()

	t.Run("store fails", func(t *testing.T) {
		db, _ := openTestDB(t)
		db.Close()
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		_, err := importFrom(ctx, bytes.NewReader(file), "orders.jsonl", db, 4)
		if !errors.Is(err, sqlstore.ErrClosed) {
			t.Fatalf("import into a closed store: %v, want ErrClosed", err)
		}
	})
	t.Run("bad line", func(t *testing.T) {
		db, dsn := openTestDB(t)
		lines := bytes.SplitAfter(file, []byte("\n"))
		broken := slices.Concat(slices.Concat(lines[:12]...), []byte("{\"not\": \"an order\"}\n"), slices.Concat(lines[12:]...))
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		res, err := importFrom(ctx, bytes.NewReader(broken), "orders.jsonl", db, 4)
		if err == nil || !strings.Contains(err.Error(), "orders.jsonl") {
			t.Fatalf("import of a file with a bad line 13: %v, want an error naming the file", err)
		}
		if res.added != 12 {
			t.Errorf("added %d orders before the bad line, want the 12 of the three whole chunks", res.added)
		}
		db.Close()
		if got := dbHashes(t, dsn); len(got) != 12 {
			t.Errorf("the database holds %d orders, want 12", len(got))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		db, _ := openTestDB(t)
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		if _, err := importFrom(ctx, bytes.NewReader(file), "orders.jsonl", db, 4); !errors.Is(err, context.Canceled) {
			t.Fatalf("import with a cancelled context: %v, want context.Canceled", err)
		}
	})
}
