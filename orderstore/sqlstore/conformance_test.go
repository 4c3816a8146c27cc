package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/testing/pgtest"
)

// openSQLite opens a new SQLite store in t's temporary directory.
func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "orders.db"))
}

// openPostgres opens a store on a new database of the test cluster.
func openPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, pgtestDatabase(t))
}

// pgtestDatabase is a new database on the test cluster.
func pgtestDatabase(t testing.TB) string { return pgtest.Database(t) }

func open(t testing.TB, dsn string, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) orderstore.Store { return openSQLite(t) })
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) orderstore.Store { return openPostgres(t) })
}
