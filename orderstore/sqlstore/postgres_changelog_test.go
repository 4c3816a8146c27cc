package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// The change log keeps a row a transaction, a large one's in several
// sets, and another Store follows every change of them: a transaction of
// 25 000 orders (three sets), then more transactions than one read of the
// log takes, then removals.
func TestPostgresChangeSets(t *testing.T) {
	ctx := context.Background()
	url := pgtestDatabase(t)
	writer, follower := open(t, url), open(t, url)
	follower.ReconcileSnapshotAll(0)
	feed := follower.Subscribe(30_000)
	defer feed.Close()
	db := rawDB(t, url)
	sets := func() (n int) {
		t.Helper()
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ordersync_change_sets").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	orders := storetest.Orders(0, 25_300)
	if n, err := writer.AddOrders(ctx, orders[:25_000]); err != nil || n != 25_000 {
		t.Fatalf("AddOrders: %d new, %v", n, err)
	}
	if got := sets(); got != 3 {
		t.Fatalf("one transaction of 25 000 changes logged %d sets, want 3", got)
	}
	for i := 25_000; i < len(orders); i += 10 {
		if _, err := writer.AddOrders(ctx, orders[i:i+10]); err != nil {
			t.Fatal(err)
		}
	}
	if got := sets(); got != 33 {
		t.Fatalf("33 transactions logged %d sets", got)
	}
	waitForCount(t, follower, len(orders))
	expectFeed(t, feed, orderstore.ChangeAdded, len(orders), true)
	expectFeedEmpty(t, feed)

	hashes := make([]common.Hash, 700)
	for i := range hashes {
		hashes[i] = hashOf(t, orders[i])
	}
	if n, err := writer.Remove(ctx, hashes...); err != nil || n != 700 {
		t.Fatalf("Remove: %d, %v", n, err)
	}
	waitForCount(t, follower, len(orders)-700)
	expectFeed(t, feed, orderstore.ChangeRemoved, 700, false)
	expectFeedEmpty(t, feed)
	var last, head sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(last), (SELECT seq FROM ordersync_change_head) FROM ordersync_change_sets").Scan(&last, &head); err != nil || last != head {
		t.Fatalf("the last set ends at %v, the head is %v (%v)", last, head, err)
	}
}
