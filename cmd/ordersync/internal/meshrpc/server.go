package meshrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// Validator is the node's own judgement of orders that passed the API's
// checks (well formed, the filter, expiry, signature), called once per
// mesh_addOrders with those orders before any is stored. It answers one
// entry per order: nil to accept, or why it rejects. An error rejects them
// all as InternalError. It is the seam for the validation hook of the
// Service (issue 23), so that an order added here is judged as a synced
// one is; until then the node passes none.
type Validator func(ctx context.Context, orders []*zeroex.SignedOrder) ([]*Rejection, error)

// Config is what the server serves.
type Config struct {
	// Store is the node's store. The optional interfaces it implements
	// decide how much of the API works fully: Pinner (pinned orders),
	// Admitter (order-by-order answers from the store), Capped
	// (maxExpirationTime, OrderMaxExpirationExceeded), Expirer (the expiry
	// rule; otherwise expiry at the clock with no margin), Subscriber
	// (order events for every change; otherwise only those of orders added
	// through the API), Getter (isNew for stores without Admitter).
	Store orderstore.Store
	// Held counts the orders in Store (-1 when it cannot say).
	Held func() int
	// Host is the node's libp2p host: its peer ID, its peers, mesh_addPeer.
	Host host.Host
	// Filter is the orders the API takes; its chain ID is the chain the
	// node reports and orders of other chains get OrderForIncorrectChain.
	Filter *orderfilter.Filter
	// Validator, when not nil, judges orders after the API's own checks.
	Validator Validator
	// Version is mesh_getStats's version.
	Version string
	// Log gets the errors that clients are not told (InternalError).
	Log logrus.FieldLogger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limits bound what one client may ask; zero fields take their
	// defaults.
	Limits Limits
}

// Limits bound what clients may ask of the server.
type Limits struct {
	// MaxRequestBytes bounds an HTTP request body and a WebSocket message.
	MaxRequestBytes int
	// MaxOrdersPerCall bounds the orders of one mesh_addOrders.
	MaxOrdersPerCall int
	// MaxPerPage bounds mesh_getOrders's perPage.
	MaxPerPage int
	// MaxSnapshots bounds the snapshots open at once, all clients
	// together; MaxSnapshotsPerConn those one connection opened (a new one
	// beyond it replaces that connection's oldest).
	MaxSnapshots, MaxSnapshotsPerConn int
	// SnapshotIdle is how long a snapshot lives after its last page was
	// asked for; SnapshotLifetime how long it lives at most.
	SnapshotIdle, SnapshotLifetime time.Duration
	// MaxSubscriptionsPerConn bounds a connection's subscriptions.
	MaxSubscriptionsPerConn int
	// EventBuffer is how many store changes an "orders" subscription may
	// fall behind by before it is dropped, connection and all.
	EventBuffer int
	// MaxEventsPerNotification bounds the events of one notification.
	MaxEventsPerNotification int
	// Heartbeat is the interval of "heartbeat" ticks.
	Heartbeat time.Duration
	// MaxBatch bounds the calls in one JSON-RPC batch.
	MaxBatch int
	// MaxConns bounds the connections open at once; one beyond it is
	// closed as it is accepted.
	MaxConns int
}

// DefaultLimits are the limits of a zero Limits.
var DefaultLimits = Limits{
	MaxRequestBytes:          8 << 20,
	MaxOrdersPerCall:         1000,
	MaxPerPage:               1000,
	MaxSnapshots:             16,
	MaxSnapshotsPerConn:      4,
	SnapshotIdle:             time.Minute,
	SnapshotLifetime:         10 * time.Minute,
	MaxSubscriptionsPerConn:  16,
	EventBuffer:              orderstore.DefaultFeedBuffer,
	MaxEventsPerNotification: 500,
	Heartbeat:                5 * time.Second,
	MaxBatch:                 100,
	MaxConns:                 128,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	for _, f := range []struct{ v, def *int }{
		{&l.MaxRequestBytes, &d.MaxRequestBytes}, {&l.MaxOrdersPerCall, &d.MaxOrdersPerCall},
		{&l.MaxPerPage, &d.MaxPerPage}, {&l.MaxSnapshots, &d.MaxSnapshots},
		{&l.MaxSnapshotsPerConn, &d.MaxSnapshotsPerConn}, {&l.MaxSubscriptionsPerConn, &d.MaxSubscriptionsPerConn},
		{&l.EventBuffer, &d.EventBuffer}, {&l.MaxEventsPerNotification, &d.MaxEventsPerNotification},
		{&l.MaxBatch, &d.MaxBatch}, {&l.MaxConns, &d.MaxConns},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	for _, f := range []struct{ v, def *time.Duration }{
		{&l.SnapshotIdle, &d.SnapshotIdle}, {&l.SnapshotLifetime, &d.SnapshotLifetime}, {&l.Heartbeat, &d.Heartbeat},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return l
}

// Server serves the API on one listener, HTTP and WebSocket alike.
type Server struct {
	cfg    Config
	limits Limits
	log    logrus.FieldLogger
	rpc    *rpc.Server
	http   *http.Server
	conns  *connTracker
	snaps  *snapshots
	// ownFeed carries the orders added through the API, for a store
	// without a change feed of its own.
	ownFeed orderstore.ChangeFeed

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ln     net.Listener
}

// New returns a server of cfg; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Host == nil || cfg.Filter == nil {
		return nil, errors.New("meshrpc: Config needs a Store, a Host and a Filter")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		cfg.Log = l
	}
	if cfg.Held == nil {
		cfg.Held = func() int { return -1 }
	}
	s := &Server{cfg: cfg, limits: cfg.Limits.withDefaults(), log: cfg.Log, conns: newConnTracker()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.snaps = newSnapshots(s.limits, cfg.Now)
	s.rpc = rpc.NewServer()
	s.rpc.SetHTTPBodyLimit(s.limits.MaxRequestBytes)
	s.rpc.SetWebsocketReadLimit(int64(s.limits.MaxRequestBytes))
	s.rpc.SetBatchLimits(s.limits.MaxBatch, 4*s.limits.MaxRequestBytes)
	if err := s.rpc.RegisterName("mesh", &api{s: s}); err != nil {
		return nil, fmt.Errorf("meshrpc: %w", err)
	}
	ws := s.rpc.WebsocketHandler(nil) // browsers only from localhost pages
	s.http = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				ws.ServeHTTP(w, r)
				return
			}
			s.rpc.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	return s, nil
}

// Listen starts serving on addr (host:port; port 0 picks one) and returns
// at once.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("meshrpc: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(&trackingListener{Listener: ln, t: s.conns, max: s.limits.MaxConns})
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.snaps.expireLoop(s.ctx)
	}()
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server: the listener, every connection, every
// subscription's goroutine.
func (s *Server) Close() error {
	s.cancel()
	err := s.http.Close()
	s.rpc.Stop()
	s.conns.closeAll()
	s.ownFeed.Close()
	s.wg.Wait()
	return err
}

// go runs fn in a goroutine the server waits for at Close, recovering a
// panic so that it ends fn alone.
func (s *Server) goSafe(what string, fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				s.log.Errorf("rpc: %s ended by a panic: %v", what, r)
			}
		}()
		fn()
	}()
}

// api is the "mesh" namespace: go-ethereum's rpc serves every exported
// method of it, so it has those of the API and nothing else.
type api struct{ s *Server }

// rpcError is an error with a JSON-RPC code.
type rpcError struct {
	code int
	msg  string
}

func (e *rpcError) Error() string  { return e.msg }
func (e *rpcError) ErrorCode() int { return e.code }

// invalidParams is JSON-RPC's "invalid params" error.
func invalidParams(format string, args ...any) error {
	return &rpcError{code: -32602, msg: fmt.Sprintf(format, args...)}
}

// internalError is what a client learns of a failure inside the node; the
// cause goes to the log.
func (s *Server) internalError(what string, err error) error {
	s.log.Warnf("rpc: %s: %v", what, err)
	return &rpcError{code: -32603, msg: "internal error"}
}
