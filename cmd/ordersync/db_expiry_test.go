package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/testing/proctest"
	"github.com/ordersync/ordersync/zeroex"
)

// fillDB stores orders in a new SQLite database as a store without expiry
// would (an older release, or another program), expired ones included.
func fillDB(t *testing.T, dsn string, orders []*zeroex.SignedOrder) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.AddOrders(context.Background(), orders); err != nil || n != len(orders) {
		t.Fatalf("filling %s: %d stored, %v", dsn, n, err)
	}
}

// TestCLIDatabaseExpiry: serve --db and sync --db open their databases
// with expiry, as node does. A database that holds expired orders, and
// orders within --expiry-margin of their expiry, serves neither; a sync
// database that holds expired orders does not count them.
func TestCLIDatabaseExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	now := time.Now().Unix()
	live := ordergen.Generate(ordergen.Options{Seed: 8, Count: 100})
	expired := ordergen.Generate(ordergen.Options{Seed: 8, First: 100, Count: 50, ExpirationTimeSeconds: now - 3600, ExactExpiration: true})
	marginal := ordergen.Generate(ordergen.Options{Seed: 8, First: 150, Count: 10, ExpirationTimeSeconds: now + 3600, ExactExpiration: true})
	serveDB := "sqlite:" + filepath.Join(dir, "serve.db")
	syncDB := "sqlite:" + filepath.Join(dir, "sync.db")
	fillDB(t, serveDB, slices.Concat(live, expired, marginal))
	fillDB(t, syncDB, expired)

	srv := startServer(t, bin, "--db", serveDB, "--expiry-margin", "2h")
	res := runBinary(t, bin, "sync", "--peer", srv.addrs[0], "--db", syncDB)
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exited %d: %s", code, srv.stderr.String())
	}
	proctest.MustContain(t, "serve's report", srv.stderr.String(), "serving 100 orders")
	if res.code != 0 {
		t.Fatalf("sync exited %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	proctest.MustContain(t, "sync's summary", res.stdout, "sync: accepted 100 orders (100 new)", " holds 100 orders")
}
