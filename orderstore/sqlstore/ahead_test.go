package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// expiringInThirds is 3000 orders: a third expire 10 s after now, a third
// 1010 s after, a third 2010 s after.
func expiringInThirds(now time.Time) [3][]*zeroex.SignedOrder {
	var thirds [3][]*zeroex.SignedOrder
	for i, o := range storetest.Orders(0, 3000) {
		o.ExpirationTimeSeconds.SetInt64(now.Unix() + 10 + int64(i%3)*1000)
		o.ResetHash()
		thirds[i%3] = append(thirds[i%3], o)
	}
	return thirds
}

// snapshotNow takes s's whole snapshot, failing the test if that waits for
// something that does not come (the pruner, which the caller holds): the
// minute is a guard against a hang, not a measure of speed.
func snapshotNow(t *testing.T, s *sqlstore.Store) orderstore.ReconcileSnapshot {
	t.Helper()
	done := make(chan orderstore.ReconcileSnapshot, 1)
	go func() { done <- s.ReconcileSnapshotAll(8) }()
	select {
	case snap := <-done:
		return snap
	case <-time.After(time.Minute):
		t.Fatal("the snapshot waited for the held pruner")
		return orderstore.ReconcileSnapshot{}
	}
}

// TestSnapshotDoesNotWaitForPruner: when many orders expire at once, a
// snapshot taken right then, with the pruner held so that it has deleted
// none of them, returns without it and holds none of them; moving the
// clock back puts back those no longer due; once the pruner runs, the
// index is that of the orders kept (nothing removed twice).
func TestSnapshotDoesNotWaitForPruner(t *testing.T) {
	onBoth(t, func(t *testing.T, dsn string) {
		clock := &testClock{now: time.Unix(1_900_000_000, 0)}
		s := open(t, dsn, sqlstore.WithExpiry(0), sqlstore.WithClock(clock.Now))
		ctx := context.Background()
		thirds := expiringInThirds(clock.Now())
		all := slices.Concat(thirds[0], thirds[1], thirds[2])
		if _, err := s.AddOrders(ctx, all); err != nil {
			t.Fatal(err)
		}
		s.ReconcileSnapshotAll(0) // the index is built from the table
		release := sqlstore.HoldPruner(s)
		defer release()
		v0 := s.Version()

		clock.Add(20 * time.Second) // the first third is due
		if snap := snapshotNow(t, s); snap.Count != 2000 {
			t.Fatalf("with 1 000 orders due: a snapshot of %d orders, want 2 000", snap.Count)
		}
		if s.Version() == v0 {
			t.Fatal("Version did not move when the snapshot left orders out")
		}
		storetest.CheckReconcileIndex(t, s, slices.Concat(thirds[1], thirds[2]))

		clock.Add(1000 * time.Second) // the second third too
		if snap := snapshotNow(t, s); snap.Count != 1000 {
			t.Fatalf("with 2 000 orders due: a snapshot of %d orders, want 1 000", snap.Count)
		}
		storetest.CheckReconcileIndex(t, s, thirds[2])

		clock.Add(-1000 * time.Second) // the clock goes back
		if snap := snapshotNow(t, s); snap.Count != 2000 {
			t.Fatalf("after the clock went back: a snapshot of %d orders, want 2 000", snap.Count)
		}
		storetest.CheckReconcileIndex(t, s, slices.Concat(thirds[1], thirds[2]))

		clock.Add(1000 * time.Second)
		snapshotNow(t, s)
		release()
		if _, err := s.ExpireOrders(ctx); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.Expired != 2000 || st.Orders != 1000 {
			t.Fatalf("after the pruner: %+v", st)
		}
		storetest.CheckReconcileIndex(t, s, thirds[2])
		// The index goes on following commits.
		more := storetest.Orders(5000, 10)
		if _, err := s.AddOrders(ctx, more); err != nil {
			t.Fatal(err)
		}
		storetest.CheckReconcileIndex(t, s, slices.Concat(thirds[2], more))
	})
}

// TestPostgresSnapshotAheadOfOtherPruner: a Store that took expired
// orders out of its index ahead of the pruner leaves its index alone when
// another Store's pruner deletes them and the change log says so.
func TestPostgresSnapshotAheadOfOtherPruner(t *testing.T) {
	url := pgtestDatabase(t)
	clock := &testClock{now: time.Unix(1_900_000_000, 0)}
	ctx := context.Background()
	pruning := open(t, url, sqlstore.WithExpiry(0), sqlstore.WithClock(clock.Now))
	s := open(t, url, sqlstore.WithExpiry(0), sqlstore.WithClock(clock.Now))
	releaseOwn := sqlstore.HoldPruner(s)
	defer releaseOwn()
	releaseOther := sqlstore.HoldPruner(pruning)
	defer releaseOther()
	thirds := expiringInThirds(clock.Now())
	all := slices.Concat(thirds[0], thirds[1], thirds[2])
	if _, err := pruning.AddOrders(ctx, all); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, s, 3000)
	feed := s.Subscribe(10_000)
	defer feed.Close()

	clock.Add(20 * time.Second)
	if snap := snapshotNow(t, s); snap.Count != 2000 {
		t.Fatalf("with 1 000 orders due: a snapshot of %d orders, want 2 000", snap.Count)
	}
	kept := slices.Concat(thirds[1], thirds[2])
	storetest.CheckReconcileIndex(t, s, kept)

	releaseOther()
	if _, err := pruning.ExpireOrders(ctx); err != nil {
		t.Fatal(err)
	}
	// The count stays 2 000: what says the log reached this Store is
	// its feed (which may first report the orders added, if it had not
	// when it was subscribed).
	for expired := 0; expired < 1000; {
		select {
		case c := <-feed.Changes():
			switch c.Kind {
			case orderstore.ChangeExpired:
				expired++
			case orderstore.ChangeAdded:
			default:
				t.Fatalf("change %v of %s; want expiries", c.Kind, c.Hash)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d expiries reached the feed after 30 s, want 1 000", expired)
		}
	}
	storetest.CheckReconcileIndex(t, s, kept)
	more := storetest.Orders(5000, 10)
	if _, err := pruning.AddOrders(ctx, more); err != nil {
		t.Fatal(err)
	}
	waitForCount(t, s, 2010)
	storetest.CheckReconcileIndex(t, s, slices.Concat(kept, more))
}

// TestSnapshotsBesidePruner: snapshots taking expired orders out of the
// index while the pruner deletes them and a writer adds and removes
// orders, under a clock moving in steps: whatever interleaving the run
// has, nothing is removed from the index twice or left in it, and every
// snapshot leaves out what is due.
func TestSnapshotsBesidePruner(t *testing.T) {
	onBoth(t, func(t *testing.T, dsn string) {
		clock := &testClock{now: time.Unix(1_900_000_000, 0)}
		s := open(t, dsn, sqlstore.WithExpiry(0), sqlstore.WithClock(clock.Now))
		ctx := context.Background()
		const steps = 20
		orders := storetest.Orders(0, 2000)
		for i, o := range orders {
			// Expiring in steps of 10 s, a 100 at each; those of the last
			// step after the run.
			o.ExpirationTimeSeconds.SetInt64(clock.Now().Unix() + 5 + int64(i%steps)*10)
			o.ResetHash()
		}
		if _, err := s.AddOrders(ctx, orders); err != nil {
			t.Fatal(err)
		}
		s.ReconcileSnapshotAll(0)
		var wg sync.WaitGroup
		for step := range steps - 1 {
			clock.Add(10 * time.Second)
			wg.Add(3)
			go func() { defer wg.Done(); s.ExpireOrders(ctx) }()
			go func() {
				defer wg.Done()
				// Orders that never expire, added and removed.
				more := storetest.Orders(10_000+step*10, 10)
				s.AddOrders(ctx, more)
				s.Remove(ctx, hashOf(t, more[0]))
			}()
			go func() {
				defer wg.Done()
				if snap := s.ReconcileSnapshotAll(0); snap.Count > 2000-100*(step+1)+10*(step+1) {
					t.Errorf("step %d: a snapshot of %d orders holds expired ones", step, snap.Count)
				}
			}()
			wg.Wait()
		}
		if _, err := s.ExpireOrders(ctx); err != nil {
			t.Fatal(err)
		}
		var live []*zeroex.SignedOrder
		for i, o := range orders {
			if i%steps == steps-1 {
				live = append(live, o)
			}
		}
		for step := range steps - 1 {
			live = append(live, storetest.Orders(10_000+step*10+1, 9)...)
		}
		storetest.CheckReconcileIndex(t, s, live)
		if got, want := pageAllHashes(t, s), sortedHashes(t, live); !slices.Equal(got, want) {
			t.Fatalf("the store pages %d orders, want %d", len(got), len(want))
		}
	})
}
