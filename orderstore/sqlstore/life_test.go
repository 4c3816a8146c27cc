package sqlstore_test

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

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

// TestCapacityFlood floods a store bounded to 500 orders, 50 of them
// pinned, with 4 000 valid signed orders from four writers at once, as an
// attacker who signs orders for free would (Memory's TestMemoryCapacityFlood
// on the database): the store ends holding its capacity, every pinned
// order, and of the rest those that expire first; everything it refused
// expires after its MaxExpiration; its feed, counts and reconciliation
// index agree with what it holds.
func TestCapacityFlood(t *testing.T) {
	onBoth(t, func(t *testing.T, dsn string) {
		const capacity, pinnedCount, writers, perWriter, batch = 500, 50, 4, 1000, 100
		ctx := context.Background()
		s := open(t, dsn, sqlstore.WithCapacity(capacity), sqlstore.WithExpiry(time.Minute))
		sub := s.Subscribe(100_000)
		defer sub.Close()

		pinned := ordergen.Generate(ordergen.Options{Seed: 2, Count: pinnedCount, ExpirationTimeSeconds: ordergen.DefaultExpirationTimeSeconds + 90*24*3600})
		if n, err := s.AddPinnedOrders(ctx, pinned); err != nil || n != pinnedCount {
			t.Fatalf("AddPinnedOrders: %d, %v", n, err)
		}
		flood := ordergen.Generate(ordergen.Options{Seed: 1, Count: writers * perWriter})
		admitted := make([]int, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := flood[w*perWriter : (w+1)*perWriter]
				for start := 0; start < len(mine); start += batch {
					adm, err := s.AdmitOrders(ctx, mine[start:start+batch])
					if err != nil {
						t.Error(err)
						return
					}
					for _, a := range adm {
						switch a {
						case orderstore.Admitted:
							admitted[w]++
						case orderstore.RefusedMaxExpiration:
						default:
							t.Errorf("a flooded order was %v", a)
						}
					}
				}
			}()
		}
		wg.Wait()

		st := s.Stats()
		if st.Orders != capacity || st.Pinned != pinnedCount || st.Capacity != capacity {
			t.Fatalf("after the flood: %d orders, %d pinned, capacity %d; want %d, %d, %d", st.Orders, st.Pinned, st.Capacity, capacity, pinnedCount, capacity)
		}
		if n, err := s.Len(ctx); err != nil || n != capacity {
			t.Fatalf("Len = %d, %v; want %d", n, err, capacity)
		}
		maxExp, bounded := s.MaxExpiration()
		if !bounded || !maxExp.Equal(st.MaxExpiration) {
			t.Fatalf("MaxExpiration = %v, %v; Stats says %v", maxExp, bounded, st.MaxExpiration)
		}
		total := 0
		for _, n := range admitted {
			total += n
		}
		if uint64(total)-st.Evicted != capacity-pinnedCount {
			t.Fatalf("admitted %d, evicted %d: %d left of the flood, want %d", total, st.Evicted, uint64(total)-st.Evicted, capacity-pinnedCount)
		}

		heldSet := make(map[common.Hash]bool)
		if err := s.Each(ctx, func(h common.Hash, _ *zeroex.SignedOrder) bool { heldSet[h] = true; return true }); err != nil {
			t.Fatal(err)
		}
		for _, o := range pinned {
			if !heldSet[hashOf(t, o)] {
				t.Fatal("a pinned order was evicted")
			}
		}
		latestHeld, earliestGone := int64(0), int64(math.MaxInt64)
		var kept []*zeroex.SignedOrder
		for _, o := range flood {
			exp := orderstore.ExpirationOf(o)
			if heldSet[hashOf(t, o)] {
				latestHeld = max(latestHeld, exp)
				kept = append(kept, o)
			} else {
				earliestGone = min(earliestGone, exp)
				if exp <= maxExp.Unix() {
					t.Fatalf("an order expiring at %d, not after MaxExpiration %d, was let go", exp, maxExp.Unix())
				}
			}
		}
		if latestHeld > earliestGone {
			t.Fatalf("the store holds an order expiring at %d and let one expiring at %d go", latestHeld, earliestGone)
		}

		added, evicted := 0, 0
		for len(sub.Changes()) > 0 {
			switch c := <-sub.Changes(); c.Kind {
			case orderstore.ChangeAdded:
				added++
			case orderstore.ChangeEvicted:
				evicted++
			default:
				t.Fatalf("unexpected change %v", c.Kind)
			}
		}
		if sub.Missed() != 0 || added-evicted != capacity || uint64(evicted) != st.Evicted {
			t.Fatalf("feed: %d added, %d evicted, %d missed; store: %d held, %d evicted", added, evicted, sub.Missed(), capacity, st.Evicted)
		}
		storetest.CheckReconcileIndex(t, s, append(kept, pinned...))
	})
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
// orders and finds it at version 4: the orders kept and unpinned, the
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
		if version != 4 || pinned != 0 {
			t.Fatalf("after the migration: version %d, %d pinned rows; want 4 and none", version, pinned)
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
