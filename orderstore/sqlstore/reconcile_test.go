package sqlstore_test

import (
	"context"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/orderstore/storetest"
	"github.com/ordersync/ordersync/zeroex"
)

// reconcileClass is the class of storetest's orders.
var reconcileClass = orderstore.Class{ChainID: 1337, Exchange: common.HexToAddress("0x1dc4c1cefef38a777b15aa20260a54e584b16c48")}

// sameSnapshot checks that the store's snapshot of class matches Memory's
// over the same orders (versions aside: each store counts its own).
func sameSnapshot(t *testing.T, when string, s *sqlstore.Store, m *orderstore.Memory, class orderstore.Class) {
	t.Helper()
	got, want := s.ReconcileSnapshot(class, 64), m.ReconcileSnapshot(class, 64)
	got.Version, want.Version = 0, 0
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the SQL store's snapshot (%d orders) differs from Memory's (%d orders)", when, got.Count, want.Count)
	}
}

func testReconcile(t *testing.T, dsn string) {
	ctx := context.Background()
	s := open(t, dsn)
	m := orderstore.NewMemory()
	both := func(orders []*zeroex.SignedOrder) {
		t.Helper()
		n, err := s.AddOrders(ctx, orders)
		if err != nil {
			t.Fatal(err)
		}
		if mn, _ := m.AddOrders(ctx, orders); mn != n {
			t.Fatalf("the SQL store added %d, Memory %d", n, mn)
		}
	}
	// Orders on another chain, and one whose chain ID is beyond int64:
	// they must not count towards the class.
	other := storetest.Orders(5000, 20)
	for _, o := range other[:10] {
		o.ChainID = big.NewInt(1)
		o.ResetHash()
	}
	for _, o := range other[10:] {
		o.ChainID = new(big.Int).Lsh(big.NewInt(1), 80)
		o.ResetHash()
	}
	both(storetest.Orders(0, 300))
	both(other)
	v0 := s.Version()
	sameSnapshot(t, "built from the table", s, m, reconcileClass)
	sameSnapshot(t, "chain 1", s, m, orderstore.Class{ChainID: 1, Exchange: reconcileClass.Exchange})

	both(storetest.Orders(200, 300)) // 100 held already, 200 new
	if s.Version() == v0 {
		t.Fatal("Version did not move when orders were added")
	}
	v1 := s.Version()
	both(storetest.Orders(0, 50)) // nothing new
	both(other)                   // nor these, whose chain_id is NULL in SQLite
	if s.Version() != v1 {
		t.Fatal("Version moved though nothing changed")
	}
	var gone []common.Hash
	for _, o := range storetest.Orders(100, 40) {
		gone = append(gone, hashOf(t, o))
	}
	if n, err := s.Remove(ctx, gone...); err != nil || n != 40 {
		t.Fatalf("Remove: %d, %v", n, err)
	}
	m.Remove(ctx, gone...)
	if s.Version() == v1 {
		t.Fatal("Version did not move when orders were removed")
	}
	sameSnapshot(t, "kept current through adds and removes", s, m, reconcileClass)
	sameSnapshot(t, "chain 1, kept current", s, m, orderstore.Class{ChainID: 1, Exchange: reconcileClass.Exchange})

	// A store opened on the same database builds the same index.
	again := open(t, dsn)
	got, want := again.ReconcileSnapshot(reconcileClass, 64), m.ReconcileSnapshot(reconcileClass, 64)
	got.Version, want.Version = 0, 0
	if !reflect.DeepEqual(got, want) {
		t.Fatal("reopened: the snapshot differs from Memory's")
	}
}

func TestSQLiteReconcile(t *testing.T)   { testReconcile(t, "sqlite:"+t.TempDir()+"/orders.db") }
func TestPostgresReconcile(t *testing.T) { testReconcile(t, pgtestDatabase(t)) }
