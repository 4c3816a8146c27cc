package main

import (
	"context"
	"fmt"
	"io"
	"math"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/sirupsen/logrus"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
)

const defaultListen = "/ip4/127.0.0.1/tcp/0"

// serveConfig is serve's command line, checked.
type serveConfig struct {
	listen   ma.Multiaddr
	orders   string
	db       string
	perPage  int
	identity string
	log      *logrus.Logger
	// Provider request limits, requests per second; rate.Inf is off.
	rateLimit, peerRateLimit rate.Limit
	monitor                  *monitorFlags
	limits                   *dbLimits // of the --db database
}

func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	fs, logLevel := cli.NewFlagSet("serve", "--orders FILE | --db DSN [--orders FILE] [--listen MULTIADDR] [--per-page N] [--identity FILE] [--rate-limit R] [--peer-rate-limit R] [--expiry-margin D] [--max-orders N] [--metrics ADDR] [--pprof ADDR]", stderr)
	listen := fs.String("listen", defaultListen, "libp2p `multiaddr` to listen on (port 0 picks a free port)")
	orders := fs.String("orders", "", "`file` of signed orders to serve, JSON lines or one JSON array; with --db, imported into the database")
	db := fs.String("db", "", dbUsage+"; serves what it holds, without checking it again")
	perPage := fs.Int("per-page", pagination.DefaultPerPage, cli.PerPageUsage("orders per response page"))
	identity := fs.String("identity", "", "libp2p private key `file` that keeps the peer ID across runs (created, mode 0600, if missing); default a fresh identity each run")
	rateLimit := fs.Float64("rate-limit", float64(ordersync.DefaultRateLimit), fmt.Sprintf("requests per second served to all peers together, burst %d, shared fairly: all to a peer alone, in turns when several wait (0: no limit; the network's nodes use the default)", ordersync.DefaultRateBurst))
	peerRateLimit := fs.Float64("peer-rate-limit", 0, fmt.Sprintf("requests per second served to one peer at most, burst %d, on top of --rate-limit (0: no such cap, the default)", ordersync.DefaultPeerRateBurst))
	limits := addDBLimitFlags(fs, true)
	monitor := addMonitorFlags(fs)
	if err := cli.ParseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := monitor.check(); err != nil {
		return nil, err
	}
	if err := limits.check(); err != nil {
		return nil, err
	}
	if *orders == "" && *db == "" {
		return nil, cli.Usagef("--orders or --db is required")
	}
	if err := cli.CheckPerPage(*perPage); err != nil {
		return nil, err
	}
	addr, err := ma.NewMultiaddr(*listen)
	if err != nil {
		return nil, cli.Usagef("--listen %q: bad multiaddr: %v", *listen, err)
	}
	cfg := &serveConfig{listen: addr, orders: *orders, db: *db, perPage: *perPage, identity: *identity, monitor: monitor, limits: limits}
	if cfg.log, err = cli.NewLogger(*logLevel, stderr); err != nil {
		return nil, err
	}
	if cfg.rateLimit, err = requestRate("--rate-limit", *rateLimit); err != nil {
		return nil, err
	}
	if cfg.peerRateLimit, err = requestRate("--peer-rate-limit", *peerRateLimit); err != nil {
		return nil, err
	}
	return cfg, nil
}

// requestRate checks a rate flag; 0 turns the limit off.
func requestRate(flag string, perSecond float64) (rate.Limit, error) {
	switch {
	case perSecond == 0:
		return rate.Inf, nil
	case perSecond < 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0):
		return 0, cli.Usagef("%s %v: want a positive number of requests per second, or 0 for no limit", flag, perSecond)
	}
	return rate.Limit(perSecond), nil
}

// runServe loads, verifies and serves an order file until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log := cfg.log

	// Identity and listener first: a bad key file or a busy port should
	// not wait for a large order file to load. Until the service is
	// registered below, the host turns ordersync streams away.
	priv, err := cli.LoadKeyOrNil(cfg.identity)
	if err != nil {
		return err
	}
	h, err := p2phost.New(p2phost.WithIdentity(priv), p2phost.ListenOn(cfg.listen))
	if err != nil {
		return err
	}
	defer h.Close()
	mon, err := startMonitor("serve", cfg.monitor, stderr)
	if err != nil {
		return err
	}
	defer mon.Close()

	store, closeStore, err := serveStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	if ctx.Err() != nil {
		return nil // Stopped while loading: nothing to serve, nothing wrong.
	}

	opts := []pagination.Option{pagination.WithPerPage(cfg.perPage)}
	subprotocols := []ordersync.Subprotocol{
		reconcile.New(store, nil, reconcile.WithPagination(opts...)),
		filteredpagination.New(store, nil, opts...),
		ordinal.New(store, nil, opts...),
	}
	service := ordersync.New(ctx, ordersync.NewHostNode(h), subprotocols, append(mon.options(),
		ordersync.WithLogger(log),
		ordersync.WithRateLimit(cfg.rateLimit, ordersync.DefaultRateBurst),
		ordersync.WithPeerRateLimit(cfg.peerRateLimit, ordersync.DefaultPeerRateBurst))...)

	// The address lines are the one thing serve writes to stdout (os.Stdout
	// is unbuffered): scripts and tests read them to know whom to dial.
	if err := cli.PrintAddrs(stdout, h); err != nil {
		return err
	}

	<-ctx.Done()
	st := service.Stats()
	fmt.Fprintf(stderr, "serve: stopping: served %d requests, %d bytes written, %d bytes read, %d orders sent, %d streams turned away, %d cut off\n",
		st.RequestsServed, st.BytesWritten, st.BytesRead, st.OrdersSent, st.StreamsRejected, st.StreamsCutOff)
	return nil
}

// serveStore returns the store serve serves: the order file in memory,
// or the database of --db with the order file (if any) imported into it.
func serveStore(ctx context.Context, cfg *serveConfig, stderr io.Writer) (orderstore.Store, func(), error) {
	if cfg.db == "" {
		store, err := loadStore(ctx, cfg.orders, stderr, cfg.log)
		return store, func() {}, err
	}
	imported, err := importNewSQLite(ctx, "serve", cfg.orders, cfg.db, cfg.limits, stderr, cfg.log)
	if err != nil {
		if ctx.Err() != nil {
			return nil, func() {}, nil // Stopped while importing.
		}
		return nil, nil, err
	}
	db, err := openDB(ctx, cfg.db, cfg.limits)
	if err != nil {
		return nil, nil, err
	}
	closeDB := func() {
		if err := db.Close(); err != nil {
			cfg.log.WithError(err).Warn("closing the order database")
		}
	}
	if cfg.orders != "" && !imported {
		if err := importOrders(ctx, "serve", cfg.orders, db, stderr, cfg.log); err != nil {
			closeDB()
			if ctx.Err() != nil {
				return nil, func() {}, nil // Stopped while importing.
			}
			return nil, nil, err
		}
	}
	held, err := db.Len(ctx)
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "serve: %s: serving %d orders\n", db, held)
	return db, closeDB, nil
}

// loadStore reads and verifies the order file and returns a store of the
// orders that verify, reporting on stderr how many did not and why.
func loadStore(ctx context.Context, path string, stderr io.Writer, log logrus.FieldLogger) (*orderstore.Memory, error) {
	return loadStoreAs(ctx, "serve", path, stderr, log)
}

// loadStoreAs is loadStore for the command named cmd, which its report on
// stderr starts with.
func loadStoreAs(ctx context.Context, cmd, path string, stderr io.Writer, log logrus.FieldLogger) (*orderstore.Memory, error) {
	store := orderstore.NewMemory()
	if err := cli.LoadOrdersInto(ctx, store, cmd, path, stderr, log); err != nil {
		return nil, err
	}
	return store, nil
}
