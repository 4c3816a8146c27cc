package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// onBoth runs test against a SQLite file and a PostgreSQL database.
func onBoth(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite:"+filepath.Join(t.TempDir(), "orders.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtestDatabase(t)) })
}

// TestPrunerExpiresUnread: with nobody reading, the pruner deletes an
// order within about a second of its expiry, and says so on the feed. The
// test waits for the change, not for time. Close then ends the pruner
// (TestMain's goleak checks).
func TestPrunerExpiresUnread(t *testing.T) {
	onBoth(t, func(t *testing.T, dsn string) {
		s := open(t, dsn, sqlstore.WithExpiry(0))
		sub := s.Subscribe(0)
		o := ordergen.Generate(ordergen.Options{Seed: 3, Count: 1})[0]
		o.ExpirationTimeSeconds.SetInt64(time.Now().Unix() + 1)
		o.ResetHash()
		if n, err := s.AddOrders(context.Background(), []*zeroex.SignedOrder{o}); err != nil || n != 1 {
			t.Fatalf("AddOrders: %d, %v", n, err)
		}
		for _, want := range []orderstore.ChangeKind{orderstore.ChangeAdded, orderstore.ChangeExpired} {
			select {
			case c := <-sub.Changes():
				if c.Kind != want || c.Hash != hashOf(t, o) {
					t.Fatalf("change %v of %s, want %v of the order", c.Kind, c.Hash, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %v change", want)
			}
		}
		if st := s.Stats(); st.Expired != 1 || st.Orders != 0 {
			t.Fatalf("Stats after expiry: %+v", st)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, open := <-sub.Changes(); open {
			t.Fatal("the feed is open after Close")
		}
	})
}

// TestExpiryManyAtOnce: thousands of orders expiring at the same moment
// leave in the pruner's small transactions, each reported once, while
// the orders that do not expire stay; the index ends that of the orders
// kept.
func TestExpiryManyAtOnce(t *testing.T) {
	onBoth(t, func(t *testing.T, dsn string) {
		var mu sync.Mutex
		now := time.Unix(1_900_000_000, 0)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		s := open(t, dsn, sqlstore.WithExpiry(0), sqlstore.WithClock(clock))
		ctx := context.Background()
		orders := storetest.Orders(0, 3000)
		for i, o := range orders {
			o.ExpirationTimeSeconds.SetInt64(now.Unix() + 10 + int64(i%3)*1000)
			o.ResetHash()
		}
		if _, err := s.AddOrders(ctx, orders); err != nil {
			t.Fatal(err)
		}
		s.ReconcileSnapshotAll(0) // the index is built, and must follow
		sub := s.Subscribe(10_000)
		mu.Lock()
		now = now.Add(20 * time.Second)
		mu.Unlock()
		n, err := s.ExpireOrders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The pruner, woken by the read, may have taken some first.
		if st := s.Stats(); st.Expired != 1000 || st.Orders != 2000 {
			t.Fatalf("after 1 000 orders expired: %+v (ExpireOrders took %d)", st, n)
		}
		var kept []*zeroex.SignedOrder
		for i, o := range orders {
			if i%3 != 0 {
				kept = append(kept, o)
			}
		}
		if got, want := pageAllHashes(t, s), sortedHashes(t, kept); !slices.Equal(got, want) {
			t.Fatalf("after expiry the store pages %d orders, want %d", len(got), len(want))
		}
		expectFeed(t, sub, orderstore.ChangeExpired, 1000, true)
		expectFeedEmpty(t, sub)
		storetest.CheckReconcileIndex(t, s, kept)
	})
}

// TestPinnedKeptAcrossOpen: the pin is in the database, so a store opened
// again still keeps its pinned orders first.
func TestPinnedKeptAcrossOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orders.db")
	ctx := context.Background()
	orders := storetest.Orders(0, 3)
	for i, o := range orders {
		o.ExpirationTimeSeconds.SetInt64(4102444800 + int64(i)*100)
		o.ResetHash()
	}
	first, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.WithCapacity(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.AddPinnedOrders(ctx, orders[2:]); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s := open(t, "sqlite:"+path, sqlstore.WithCapacity(2))
	// Full: the unpinned order that expires last is refused (it would be
	// evicted at once), not the pinned one that expires after it.
	if n, err := s.AddOrders(ctx, orders[:2]); err != nil || n != 1 {
		t.Fatalf("AddOrders: %d, %v; want 1 new", n, err)
	}
	if got, want := pageAllHashes(t, s), sortedHashes(t, []*zeroex.SignedOrder{orders[0], orders[2]}); !slices.Equal(got, want) {
		t.Fatalf("the reopened store holds %d orders, not the pinned one and the earliest", len(got))
	}
}

// TestMigratesVersion3 opens a database at schema version 3 that holds
// orders and finds it at the latest version: the orders kept and unpinned, the
// expiration index on (pinned, expiration_time_seconds), and expiry and
// pinning working on them.
func TestMigratesVersion3(t *testing.T) {
	onBoth(t, func(t *testing.T, dsn string) {
		orders := storetest.Orders(0, 50)
		for i, o := range orders {
			o.ExpirationTimeSeconds.SetInt64(time.Now().Unix() + int64(i-10)*3600)
			o.ResetHash()
		}
		if err := sqlstore.WriteVersion(dsn, 3, orders); err != nil {
			t.Fatal(err)
		}
		s := open(t, dsn, sqlstore.WithExpiry(0))
		db := rawDB(t, dsn)
		var version, pinned, unpinned int
		if err := db.QueryRow("SELECT max(version) FROM ordersync_schema").Scan(&version); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM orders WHERE pinned <> 0").Scan(&pinned); err != nil {
			t.Fatal(err)
		}
		latest := 7 // PostgreSQL's latest; SQLite's is 5.
		if strings.HasPrefix(dsn, "sqlite:") {
			latest = 5
		}
		if version != latest || pinned != 0 {
			t.Fatalf("after the migration: version %d, %d pinned rows; want %d and none", version, pinned, latest)
		}
		// The eleven that expired before the migration are left out, and
		// go (the pruner may have taken them already).
		if got, want := pageAllHashes(t, s), sortedHashes(t, orders[11:]); !slices.Equal(got, want) {
			t.Fatalf("after the migration the store pages %d orders, want the %d live", len(got), len(want))
		}
		if _, err := s.ExpireOrders(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM orders WHERE pinned = 0").Scan(&unpinned); err != nil || unpinned != 39 || s.Stats().Expired != 11 {
			t.Fatalf("after ExpireOrders: %d rows, %d expired, %v; want 39 and 11", unpinned, s.Stats().Expired, err)
		}
		if _, err := s.AddPinnedOrders(context.Background(), orders[20:21]); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT count(*) FROM orders WHERE pinned = 1").Scan(&pinned); err != nil || pinned != 1 {
			t.Fatalf("pinning a migrated order: %d pinned, %v", pinned, err)
		}
	})
}

// rawDB is a plain connection to the database of dsn, for looking inside.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name := "pgx", dsn
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, name = "sqlite", path
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPostgresExpiryReachesOtherStores: orders one Store's pruner deletes
// leave the index of another Store on the same database, whose feed
// reports them as expired (the change log says why an order left).
func TestPostgresExpiryReachesOtherStores(t *testing.T) {
	url := pgtestDatabase(t)
	var mu sync.Mutex
	now := time.Unix(1_900_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	pruning := open(t, url, sqlstore.WithExpiry(0), sqlstore.WithClock(clock))
	other := open(t, url)
	other.ReconcileSnapshotAll(0)
	orders := storetest.Orders(0, 300)
	for i, o := range orders {
		o.ExpirationTimeSeconds.SetInt64(now.Unix() + 10 + int64(i%3)*1000)
		o.ResetHash()
	}
	if _, err := pruning.AddOrders(context.Background(), orders); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, other, 300)
	feed := other.Subscribe(1000)
	defer feed.Close()
	mu.Lock()
	now = now.Add(20 * time.Second)
	mu.Unlock()
	if _, err := pruning.ExpireOrders(context.Background()); err != nil {
		t.Fatal(err)
	}
	took := waitForCount(t, other, 200)
	expectFeed(t, feed, orderstore.ChangeExpired, 100, false)
	expectFeedEmpty(t, feed)
	t.Logf("the other Store's index followed 100 expiries in %s", took)
}
