package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/cli"
	"github.com/ordersync/ordersync/internal/gcfloor"
	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/zeroex"
)

// runSync fetches the orders of the given peers into a file and prints a
// summary. It fails when a peer cannot be reached (unless enough others
// can), when the time is up before --min-peers peers have delivered, or when
// every peer answered in full with nothing; what was accepted until then is
// written anyway.
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseSyncFlags(args, stderr)
	if err != nil {
		return err
	}
	defer limitHeapGrowth()()
	// Create the output first, as a temporary file beside it: a typo in the
	// path fails before the sync, and the file appears whole or not at all.
	// An output that exists and is not a regular file (/dev/null, a pipe)
	// is written in place: a rename would replace it with a regular file.
	var out *os.File
	inPlace := false
	if cfg.out != "" {
		if out, inPlace, err = openOut(cfg.out); err != nil {
			return err
		}
		if !inPlace {
			defer os.Remove(out.Name()) // A no-op once renamed.
		}
		defer out.Close()
	}

	syncCtx := ctx
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		syncCtx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	start := time.Now()
	res, syncErr := syncOrders(syncCtx, cfg)
	if res == nil {
		return syncErr
	}
	elapsed := time.Since(start)

	// Write even when interrupted: what was received is worth keeping.
	written := res.held
	if out != nil {
		if written, err = writeOutFile(ctx, out, res, cfg.out, inPlace); err != nil {
			return err
		}
	}
	printSyncSummary(stdout, res, elapsed, written, cfg.out)

	if syncErr != nil {
		return explainSyncError(ctx, syncErr, res, cfg, written)
	}
	if written == 0 {
		return errors.New("nothing received: the peers synced but sent no order that passed validation")
	}
	return nil
}

// writeOutFile writes the accepted orders to out and renames it to path,
// unless out is path itself (inPlace).
func writeOutFile(ctx context.Context, out *os.File, res *syncOutcome, path string, inPlace bool) (int, error) {
	written, err := cli.WriteOrders(out, res.orders(context.WithoutCancel(ctx)))
	if err == nil && !inPlace {
		err = out.Chmod(0o644)
	}
	if err == nil {
		err = out.Close()
	}
	if err == nil && !inPlace {
		err = os.Rename(out.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return written, nil
}

// syncGCPercent is the collector's target for sync, unless GOGC says
// otherwise. Nearly all that sync allocates stays live until it exits (the
// orders it writes out), so the default of 100 lets the heap run up to twice
// what it holds before a collection. At 50 the peak of a sync of 200 000
// orders was 233-236 MB (five runs) against 228-248 MB at 100 (four), for
// about 0.9 s more of the collector's CPU on a sync of some 16 s of CPU.
const syncGCPercent = 50

// limitHeapGrowth sets the collector's target to syncGCPercent when GOGC is
// not set, and returns what puts the previous target back. It is the base
// under the program's floor (gcfloor): with --db the live heap stays small
// and the floor decides, with the orders in memory the heap soon outgrows
// it.
func limitHeapGrowth() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	return gcfloor.SetBase(syncGCPercent)
}

// openOut opens sync's output: a temporary file beside path, to be renamed
// over it, or path itself (inPlace) when it exists and is not a regular
// file, such as /dev/null or a named pipe, which a rename would replace.
func openOut(path string) (out *os.File, inPlace bool, err error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		out, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, false, fmt.Errorf("cannot write %s: %w", path, err)
		}
		return out, true, nil
	}
	out, err = createTemp(path)
	return out, false, err
}

// createTemp creates a temporary file in the directory of path.
func createTemp(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return f, nil
}

// syncOutcome is what a sync leaves for the summary and the output file.
type syncOutcome struct {
	store *orderstore.Memory // the accepted orders, for --out (nil without)
	// db is the --db database ("" without) and held how many orders it
	// held at the end.
	db   string
	held int
	// stats are the service's counts, from the events its metrics come
	// from too.
	stats ordersync.Stats
	peers []peer.AddrInfo
}

// orders yields the stored orders in hash order.
func (r *syncOutcome) orders(ctx context.Context) func(yield func(*zeroex.SignedOrder) bool) {
	return func(yield func(*zeroex.SignedOrder) bool) {
		r.store.Each(ctx, func(_ common.Hash, o *zeroex.SignedOrder) bool { return yield(o) })
	}
}

// syncOrders connects to the peers and runs GetOrders. The result is nil
// only when no sync could start (no peer reachable, or too few).
func syncOrders(ctx context.Context, cfg *syncConfig) (_ *syncOutcome, err error) {
	log := cfg.log
	// A requester needs no listening address: it dials out.
	h, err := p2phost.New()
	if err != nil {
		return nil, err
	}
	defer h.Close()

	if err := cli.ConnectPeers(ctx, h, cfg.peers, cfg.minPeers, log); err != nil {
		return nil, err
	}

	node := ordersync.NewHostNode(h)
	res := &syncOutcome{peers: cfg.peers}
	var store orderstore.Store
	if cfg.out != "" {
		res.store = orderstore.NewMemory()
		store = res.store
	}
	if cfg.db != "" {
		db, openErr := openDB(ctx, cfg.db, cfg.limits)
		if openErr != nil {
			return nil, openErr
		}
		// Deferred before the service starts, so closed after it stops.
		defer db.Close()
		defer func() { res.held, _ = db.Len(context.WithoutCancel(ctx)) }()
		// A first sync into an empty database is a bulk load: its
		// secondary indexes are built once at the end rather than
		// rewritten in every page's transaction, where the expiration
		// index's random keys were half of SQLite's WAL (docs/schema.md).
		// Deferred after Len, so built before it counts.
		endLoad, loadErr := db.StartBulkLoad(ctx)
		if loadErr != nil {
			return nil, loadErr
		}
		defer func() {
			if endErr := endLoad(context.WithoutCancel(ctx)); endErr != nil && err == nil {
				err = endErr
			}
		}()
		res.db = db.String()
		store = db
		if res.store != nil {
			store = outReadTee{teeStore{db: db, out: res.store}}
		}
	}
	if cfg.update && res.store != nil {
		if err := loadUpdate(ctx, res.store, cfg.out); err != nil {
			return nil, err
		}
	}
	var opts []pagination.Option
	subprotocols := make([]ordersync.Subprotocol, 0, len(cfg.subprotocols))
	for _, name := range cfg.subprotocols {
		sub, err := cli.NewSubprotocol(name, store, cfg.filter, node, opts...)
		if err != nil {
			return nil, err
		}
		subprotocols = append(subprotocols, sub)
	}
	// The service also serves what it has stored to peers that ask; it
	// stops when this function returns. Its context leaves out ctx's
	// deadline: when --timeout passes, GetOrders must see the deadline,
	// not its Service closing at the same instant (which it reports as
	// ErrClosed, and which made a timeout read as another error).
	serviceCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	// A one-shot sync serves peers only while it runs: caching each
	// order's encoding for them would hold a kilobyte more per order.
	service := ordersync.New(serviceCtx, node, subprotocols, ordersync.WithLogger(log), ordersync.WithEncodingCache(false))

	getCtx, giveUp := context.WithCancelCause(ctx)
	defer giveUp(nil)
	go giveUpIfNothingComes(getCtx, service, cfg.peers, giveUp)
	err = service.GetOrders(getCtx, cfg.minPeers)
	if cause := context.Cause(getCtx); err != nil && errors.Is(cause, errNothingReceived) {
		err = cause
	}
	res.stats = service.Stats()
	return res, err
}

// loadUpdate puts the orders of path, when it exists, into store: the
// requester's starting point for sync --update. Their hashes are computed
// (a line that cannot be hashed is an error naming it); their signatures
// were checked when the file was written.
func loadUpdate(ctx context.Context, store *orderstore.Memory, path string) error {
	orders, err := cli.ReadOrderFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--update: %w", err)
	}
	for i, o := range orders {
		if _, err := o.ComputeOrderHash(); err != nil {
			return fmt.Errorf("--update: %s: order %d: %w", path, i+1, err)
		}
	}
	if _, err := store.AddOrders(ctx, orders); err != nil {
		return fmt.Errorf("--update: %s: %w", path, err)
	}
	return nil
}

// outReadTee is the teeStore as a requester reconciles over it: the file
// wants every order of the peers, so the set it holds is the --out file's
// (what it starts from), not the database's; adds still go to both.
type outReadTee struct{ teeStore }

func (t outReadTee) OrdersAfter(ctx context.Context, after common.Hash, limit int) ([]*zeroex.SignedOrder, error) {
	return t.out.OrdersAfter(ctx, after, limit)
}

func (t outReadTee) Get(hash common.Hash) (*zeroex.SignedOrder, bool) { return t.out.Get(hash) }
