package sqlstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// LoadNewSQLite fills a new database through a file beside it and puts it
// under its name only at the end: a WAL database with every index, that
// any store opens as usual.
func TestLoadNewSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.db")
	orders := storetest.Orders(0, 3000)
	err := sqlstore.LoadNewSQLite(ctx, path, func(ctx context.Context, s *sqlstore.Store) error {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("during the load %s exists (%v)", path, err)
		}
		if got := s.String(); got != "sqlite:"+path {
			t.Errorf("the loading store is named %q, want sqlite:%s", got, path)
		}
		for first := 0; first < len(orders); first += 1000 {
			// Each chunk half new, half held.
			if n, err := s.AddOrders(ctx, orders[max(0, first-500):first+1000]); err != nil || n != 1000 {
				t.Errorf("AddOrders: %d new, %v; want 1000", n, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); !slices.Equal(names, []string{path}) {
		t.Fatalf("after the load the directory holds %v, want only %s", names, path)
	}
	var mode string
	if err := rawDB(t, "sqlite:"+path).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("the loaded file's journal mode is %q (%v), want wal", mode, err)
	}
	if want := []string{"orders_by_expiration", "orders_by_hash", "orders_by_hash_unchained"}; !slices.Equal(indexNames(t, path), want) {
		t.Fatalf("the loaded file's indexes are %v, want %v", indexNames(t, path), want)
	}
	checkIntegrity(t, path)
	s := open(t, "sqlite:"+path)
	if got, want := pageAllHashes(t, s), sortedHashes(t, orders); !slices.Equal(got, want) {
		t.Fatalf("the loaded store holds %d orders, want %d", len(got), len(want))
	}

	if err := sqlstore.LoadNewSQLite(ctx, path, func(context.Context, *sqlstore.Store) error { return nil }); !errors.Is(err, sqlstore.ErrExists) {
		t.Fatalf("LoadNewSQLite over an existing file: %v, want ErrExists", err)
	}
}

// A load that fails leaves nothing under the name, nor beside it; a
// leftover ".loading" file (a load killed midway) is cleared by the next.
func TestLoadNewSQLiteFailed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.db")
	if err := os.WriteFile(path+".loading", []byte("left by a killed load"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := sqlstore.LoadNewSQLite(ctx, path, func(ctx context.Context, s *sqlstore.Store) error {
		if _, err := s.AddOrders(ctx, storetest.Orders(0, 10)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("LoadNewSQLite whose load fails: %v, want its error", err)
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); len(names) != 0 {
		t.Fatalf("after a failed load the directory holds %v, want nothing", names)
	}
	if err := sqlstore.LoadNewSQLite(ctx, path, func(ctx context.Context, s *sqlstore.Store) error {
		_, err := s.AddOrders(ctx, storetest.Orders(0, 10))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := pageAllHashes(t, open(t, "sqlite:"+path)); len(got) != 10 {
		t.Fatalf("the load after a failed one stored %d orders, want 10", len(got))
	}
}
