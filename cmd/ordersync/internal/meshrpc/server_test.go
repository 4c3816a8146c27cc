package meshrpc

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// panicHook tells when the server logs that a goroutine ended by a panic.
type panicHook struct {
	once   sync.Once
	logged chan string
}

func (h *panicHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *panicHook) Fire(e *logrus.Entry) error {
	if strings.Contains(e.Message, "ended by a panic") {
		h.once.Do(func() { h.logged <- e.Message })
	}
	return nil
}

// startServer serves cfg (Host and Filter filled in) on loopback and
// returns a WebSocket client of it.
func startServer(t *testing.T, cfg Config) (*Server, *rpc.Client) {
	t.Helper()
	h, err := p2phost.New(p2phost.Loopback())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	cfg.Host = h
	if cfg.Filter, err = orderfilter.NewDefaultForChain(ordergen.DefaultChainID); err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := rpc.Dial("ws://" + srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return srv, c
}

// panickyStore panics in AddOrders while panics is set.
type panickyStore struct {
	*orderstore.Memory
	panics atomic.Bool
}

func (s *panickyStore) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	if s.panics.Load() {
		panic("the store broke")
	}
	return s.Memory.AddOrders(ctx, orders)
}

// TestPanics: a panic in a method ends that call with an error that says
// nothing of it; one in a subscription's goroutine ends that subscription.
// The server serves on.
func TestPanics(t *testing.T) {
	store := &panickyStore{Memory: orderstore.NewMemory(orderstore.WithExpiry(0))}
	defer store.Close()
	store.panics.Store(true)
	var clockPanics atomic.Bool
	hook := &panicHook{logged: make(chan string, 1)}
	log := logrus.New()
	log.SetOutput(io.Discard)
	log.AddHook(hook)
	_, c := startServer(t, Config{Store: storeOnly{store}, Log: log, Now: func() time.Time {
		if clockPanics.Load() {
			panic("the clock broke")
		}
		return time.Now()
	}})
	orders := ordergen.Generate(ordergen.Options{Seed: 1, Count: 2})
	err := c.Call(nil, "mesh_addOrders", orders[:1], map[string]bool{"pinned": false})
	if err == nil || strings.Contains(err.Error(), "the store broke") {
		t.Errorf("a call whose store panics: %v; want an error that does not leak the panic", err)
	}
	store.panics.Store(false)

	// A subscription whose goroutine panics (on the clock, reading the
	// event's time) ends; the server serves on, subscriptions included.
	events := make(chan []map[string]any, 4)
	sub, err := c.Subscribe(context.Background(), "mesh", events, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	clockPanics.Store(true)
	if err := c.Call(nil, "mesh_addOrders", orders[:1], map[string]bool{"pinned": false}); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-hook.logged:
		if !strings.Contains(msg, "orders subscription ended by a panic: the clock broke") {
			t.Errorf("logged %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no panic logged")
	}
	clockPanics.Store(false)
	again := make(chan []map[string]any, 4)
	sub2, err := c.Subscribe(context.Background(), "mesh", again, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Unsubscribe()
	if err := c.Call(nil, "mesh_addOrders", orders[1:], map[string]bool{"pinned": false}); err != nil {
		t.Fatal(err)
	}
	select {
	case evs := <-again:
		if evs[0]["endState"] != "ADDED" {
			t.Errorf("event %v, want ADDED", evs[0])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event on a new subscription after a panic")
	}
}

// storeOnly hides every optional interface but Subscriber's and Expirer's,
// so that the store's plain AddOrders is what the server calls, and the
// store's clock, not the server's, judges expiry.
type storeOnly struct{ s *panickyStore }

func (s storeOnly) OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	return s.s.OrdersAfter(ctx, after, limit)
}

func (s storeOnly) AddOrders(ctx context.Context, orders []*zeroex.SignedOrder) (int, error) {
	return s.s.AddOrders(ctx, orders)
}

func (s storeOnly) Subscribe(buffer int) *orderstore.Subscription { return s.s.Subscribe(buffer) }

func (s storeOnly) Expiry() (orderstore.Expiry, bool) { return s.s.Expiry() }

func (s storeOnly) ExpireOrders(ctx context.Context) (int, error) { return s.s.ExpireOrders(ctx) }

// TestMaxConns: a connection beyond MaxConns is closed as it is accepted;
// once one closes, a new one is served.
func TestMaxConns(t *testing.T) {
	store := orderstore.NewMemory()
	srv, first := startServer(t, Config{Store: store, Limits: Limits{MaxConns: 1}})
	var st map[string]any
	if err := first.Call(&st, "mesh_getStats"); err != nil {
		t.Fatal(err)
	}
	url := "ws://" + srv.Addr().String()
	if c, err := rpc.Dial(url); err == nil {
		c.Close()
		t.Fatal("a second connection was served beyond MaxConns 1")
	}
	first.Close()
	var second *rpc.Client
	deadline := time.After(10 * time.Second)
	for second == nil {
		// The server sees the first connection close a moment after the
		// client does; until then the dial is refused.
		c, err := rpc.Dial(url)
		if err == nil {
			second = c
			break
		}
		select {
		case <-deadline:
			t.Fatalf("no connection served after the first closed: %v", err)
		default:
		}
	}
	defer second.Close()
	if err := second.Call(&st, "mesh_getStats"); err != nil {
		t.Fatal(err)
	}
}
