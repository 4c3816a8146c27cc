package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
)

// measurePagesEnv turns TestMeasurePostgresPages on: the URL of a
// database of a PostgreSQL server with the durable settings, its name
// spelled DBNAME (postgres://user@/DBNAME?host=...); the test connects to
// the postgres database and creates and drops databases whose names begin
// with measurePrefixEnv's value (measure_ when unset).
const measurePagesEnv = "ORDERSYNC_MEASURE_PG_SERVER"

const measurePrefixEnv = "ORDERSYNC_MEASURE_PG_PREFIX"

// TestMeasurePostgresPages measures how long a sync's writes wait on
// PostgreSQL, without the network and the signatures: 200 pages of 500 new
// orders, each added by one AddOrders into a new database with expiry on
// (as sync opens it), three times. It reports each run's wall and CPU
// seconds (this process's: the server's are not in them) and the load.
func TestMeasurePostgresPages(t *testing.T) {
	server := os.Getenv(measurePagesEnv)
	if server == "" {
		t.Skip("set " + measurePagesEnv + " to a PostgreSQL server's URL to measure")
	}
	const pages, page = 200, 500
	orders := storetest.Orders(0, pages*page)
	admin, err := sql.Open("pgx", strings.ReplaceAll(server, "DBNAME", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	prefix := os.Getenv(measurePrefixEnv)
	if prefix == "" {
		prefix = "measure_"
	}
	ctx := context.Background()
	for run := range 3 {
		name := fmt.Sprintf("%s%d", prefix, run)
		for _, q := range []string{"DROP DATABASE IF EXISTS " + name, "CREATE DATABASE " + name} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		s, err := sqlstore.Open(ctx, strings.ReplaceAll(server, "DBNAME", name), sqlstore.WithExpiry(0))
		if err != nil {
			t.Fatal(err)
		}
		cpu0, start := cpuSeconds(t), time.Now()
		for first := 0; first < len(orders); first += page {
			if n, err := s.AddOrders(ctx, orders[first:first+page]); err != nil || n != page {
				t.Fatalf("AddOrders: %d new, %v", n, err)
			}
		}
		wall, cpu := time.Since(start), cpuSeconds(t)-cpu0
		s.Close()
		t.Logf("%d orders: %.2f s, %.2f ms a page, %.2f CPU s, load %s", len(orders), wall.Seconds(), wall.Seconds()*1000/pages, cpu, loadAverage())
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Fatal(err)
		}
	}
}
