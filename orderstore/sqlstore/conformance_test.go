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

// configured opens a store set up as cfg says, on the database dsn.
func configured(t *testing.T, dsn string, cfg storetest.Config) orderstore.Store {
	opts := []sqlstore.Option{sqlstore.WithClock(cfg.Now), sqlstore.WithCapacity(cfg.Capacity)}
	if cfg.Expiry {
		opts = append(opts, sqlstore.WithExpiry(cfg.Margin))
	}
	return open(t, dsn, opts...)
}

func TestSQLiteConfiguredConformance(t *testing.T) {
	storetest.RunConfigured(t, func(t *testing.T, cfg storetest.Config) orderstore.Store {
		return configured(t, "sqlite:"+filepath.Join(t.TempDir(), "orders.db"), cfg)
	})
}

func TestPostgresConfiguredConformance(t *testing.T) {
	storetest.RunConfigured(t, func(t *testing.T, cfg storetest.Config) orderstore.Store {
		return configured(t, pgtestDatabase(t), cfg)
	})
}

// TestSQLiteLimitsConformance runs the whole suite against stores with
// expiry and a capacity that the suite's orders never reach: they take
// the writer's judging path, which must keep every promise of Store.
func TestSQLiteLimitsConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) orderstore.Store {
		return open(t, "sqlite:"+filepath.Join(t.TempDir(), "orders.db"), sqlstore.WithExpiry(0), sqlstore.WithCapacity(100_000))
	})
}

func TestPostgresLimitsConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) orderstore.Store {
		return open(t, pgtestDatabase(t), sqlstore.WithExpiry(0), sqlstore.WithCapacity(100_000))
	})
}
