package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// TestPostgresAddsOverStoredOrders: the writer inserts plainly while it
// guesses the rows new, so a call that holds stored orders, one that holds
// an order twice, and another process's store adding the same orders each
// add only what is new, and every hash is stored once.
func TestPostgresAddsOverStoredOrders(t *testing.T) {
	ctx := context.Background()
	url := pgtestDatabase(t)
	first, second := open(t, url), open(t, url)
	all := storetest.Orders(0, 160)
	if n, err := first.AddOrders(ctx, all[:100]); err != nil || n != 100 {
		t.Fatalf("AddOrders of 100 new orders: %d new, %v", n, err)
	}
	// The second store's writer has met no stored hash yet.
	if n, err := second.AddOrders(ctx, all[50:150]); err != nil || n != 50 {
		t.Fatalf("AddOrders of 50 stored and 50 new orders: %d new, %v; want 50", n, err)
	}
	if n, err := first.AddOrders(ctx, append(slices.Clone(all[140:160]), all[150:160]...)); err != nil || n != 10 {
		t.Fatalf("AddOrders of 10 stored and 10 new orders, the new twice: %d new, %v; want 10", n, err)
	}
	var rows, distinct int
	if err := rawDB(t, url).QueryRow("SELECT count(*), count(DISTINCT hash) FROM orders").Scan(&rows, &distinct); err != nil || rows != 160 || distinct != 160 {
		t.Fatalf("the table has %d rows, %d hashes (%v), want 160 of each", rows, distinct, err)
	}
	if got, want := pageAllHashes(t, second), sortedHashes(t, all); !slices.Equal(got, want) {
		t.Fatalf("the second store pages %d orders, want 160", len(got))
	}
}

// A group that meets a stored hash runs again with ON CONFLICT; what the
// first run's screen refused (expired orders) stays refused, where the
// second screen, of the rows left, forgot it.
func TestPostgresRetryKeepsFates(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtestDatabase(t), sqlstore.WithExpiry(0))
	orders := storetest.Orders(0, 22)
	for _, o := range orders[20:] {
		o.ExpirationTimeSeconds.SetInt64(time.Now().Unix() - 3600)
		o.ResetHash()
	}
	if _, err := s.AddOrders(ctx, orders[:10]); err != nil {
		t.Fatal(err)
	}
	adm, err := s.AdmitOrders(ctx, orders[5:])
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range adm {
		want := orderstore.Admitted
		switch n := i + 5; {
		case n < 10:
			want = orderstore.AlreadyHeld
		case n >= 20:
			want = orderstore.RefusedExpired
		}
		if a != want {
			t.Errorf("order %d: %v, want %v", i+5, a, want)
		}
	}
}
