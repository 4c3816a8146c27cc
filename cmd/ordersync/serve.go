package main

import (
	"context"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/crypto"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

const defaultListen = "/ip4/127.0.0.1/tcp/0"

// serveConfig is serve's command line, checked.
type serveConfig struct {
	listen   ma.Multiaddr
	orders   string
	perPage  int
	identity string
	logLevel string
}

func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	fs, logLevel := newFlagSet("serve", "--orders FILE [--listen MULTIADDR] [--per-page N] [--identity FILE]")
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultListen, "libp2p `multiaddr` to listen on (port 0 picks a free port)")
	orders := fs.String("orders", "", "`file` of signed orders to serve: JSON lines or one JSON array (required)")
	perPage := fs.Int("per-page", pagination.DefaultPerPage, fmt.Sprintf("orders per response page, 1 to %d", pagination.MaxPerPage))
	identity := fs.String("identity", "", "libp2p private key `file` that keeps the peer ID across runs (created, mode 0600, if missing); default a fresh identity each run")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *orders == "" {
		return nil, usagef("--orders is required")
	}
	if *perPage < 1 || *perPage > pagination.MaxPerPage {
		return nil, usagef("--per-page %d: want 1 to %d", *perPage, pagination.MaxPerPage)
	}
	addr, err := ma.NewMultiaddr(*listen)
	if err != nil {
		return nil, usagef("--listen %q: bad multiaddr: %v", *listen, err)
	}
	return &serveConfig{listen: addr, orders: *orders, perPage: *perPage, identity: *identity, logLevel: *logLevel}, nil
}

// runServe loads, verifies and serves an order file until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.logLevel, stderr)
	if err != nil {
		return err
	}

	orders, err := readOrderFile(cfg.orders)
	if err != nil {
		return err
	}
	valid, dropped, firstBad := verifyOrders(orders)
	if firstBad != nil {
		log.WithError(firstBad).Warn("dropping orders whose signature does not verify")
	}
	store := orderstore.NewMemory()
	added, err := store.AddOrders(ctx, valid)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "serve: %s: %d orders, %d verified, %d rejected (%s), %d duplicates\n",
		cfg.orders, len(orders), len(valid), dropped.Total(), dropped, len(valid)-added)
	orders, valid = nil, nil // The store holds what is served.

	priv, err := loadKeyOrNil(cfg.identity)
	if err != nil {
		return err
	}
	h, err := newHost(priv, cfg.listen)
	if err != nil {
		return err
	}
	defer h.Close()

	opts := []pagination.Option{pagination.WithPerPage(cfg.perPage)}
	subprotocols := []ordersync.Subprotocol{
		filteredpagination.New(store, nil, opts...),
		ordinal.New(store, nil, opts...),
	}
	service := ordersync.New(ctx, ordersync.NewHostNode(h), subprotocols, ordersync.WithLogger(log))

	// The address lines are the one thing serve writes to stdout (os.Stdout
	// is unbuffered): scripts and tests read them to know whom to dial.
	if err := printAddrs(stdout, h); err != nil {
		return err
	}

	<-ctx.Done()
	st := service.Stats()
	fmt.Fprintf(stderr, "serve: stopping: served %d requests, %d bytes written, %d bytes read\n",
		st.RequestsServed, st.BytesWritten, st.BytesRead)
	return nil
}

// loadKeyOrNil returns the key in the identity file, or nil (a fresh
// identity) when no file is named.
func loadKeyOrNil(path string) (crypto.PrivKey, error) {
	if path == "" {
		return nil, nil
	}
	return loadOrCreateIdentity(path)
}
