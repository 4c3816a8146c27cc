package sqlstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/orderstore/sqlstore"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// intakeChildEnv, set to a PostgreSQL URL, makes the test binary a second
// process on that database: it reads "add FIRST COUNT" and "remove FIRST
// COUNT" lines (orders of ordergen's stream with seed intakeSeed) and
// answers "ok N" with AddOrders's or Remove's count once it returned.
const intakeChildEnv = "SQLSTORE_INTAKE_CHILD_DB"

const intakeSeed = 26

func intakeOrders(first, count int) []*zeroex.SignedOrder {
	return ordergen.Generate(ordergen.Options{Seed: intakeSeed, First: first, Count: count})
}

func intakeChild() {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, os.Getenv(intakeChildEnv))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer s.Close()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var verb string
		var first, count int
		if _, err := fmt.Sscan(sc.Text(), &verb, &first, &count); err != nil {
			fmt.Println("error:", err)
			return
		}
		orders := intakeOrders(first, count)
		var n int
		switch verb {
		case "add":
			n, err = s.AddOrders(ctx, orders)
		case "remove":
			hashes := make([]common.Hash, len(orders))
			for i, o := range orders {
				hashes[i], _ = o.ComputeOrderHash()
			}
			n, err = s.Remove(ctx, hashes...)
		}
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println("ok", n)
	}
}

// intake is the second process, seen from the test.
type intake struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startIntake(t *testing.T, url string) *intake {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), intakeChildEnv+"="+url)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	return &intake{t: t, cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
}

// do sends one command and returns the child's count.
func (in *intake) do(verb string, first, count int) int {
	in.t.Helper()
	fmt.Fprintln(in.stdin, verb, first, count)
	if !in.out.Scan() {
		in.t.Fatalf("intake process: no answer to %s (%v)", verb, in.out.Err())
	}
	n, ok := strings.CutPrefix(in.out.Text(), "ok ")
	if !ok {
		in.t.Fatalf("intake process: %s", in.out.Text())
	}
	v, _ := strconv.Atoi(n)
	return v
}

// waitForCount waits until s's index of every order counts want orders and
// returns how long that took.
func waitForCount(t *testing.T, s *sqlstore.Store, want int) time.Duration {
	t.Helper()
	return waitFor(t, func() bool { return s.ReconcileSnapshotAll(0).Count == want })
}

// waitFor waits until done and returns how long that took. It polls: the
// change log is read on a timer, so there is no event to wait on.
func waitFor(t *testing.T, done func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !done() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("not done after 30 s")
		}
	}
	return time.Since(start)
}

// TestPostgresTwoProcesses runs two processes on one PostgreSQL database:
// a child adds and removes orders, and this process, whose reconciliation
// index was built before, serves them over reconcile to a requester. The
// index must follow the other process's writes and removals, and end equal
// to one read from the table.
func TestPostgresTwoProcesses(t *testing.T) {
	url := pgtestDatabase(t)
	served := open(t, url)
	served.ReconcileSnapshotAll(0) // builds the index now, before the writes
	feed := served.Subscribe(10_000)
	defer feed.Close()
	// late builds its index only after the other process's additions,
	// most likely before it has read them on the log: they are in its
	// index then, and its feed must still report each once.
	late := open(t, url)
	lateFeed := late.Subscribe(10_000)
	defer lateFeed.Close()
	in := startIntake(t, url)

	const n, gone = 3_000, 500
	if got := in.do("add", 0, n); got != n {
		t.Fatalf("the other process added %d orders, want %d", got, n)
	}
	if got := late.ReconcileSnapshotAll(0).Count; got != n {
		t.Fatalf("the late index counts %d orders, want %d", got, n)
	}
	took := waitForCount(t, served, n)
	t.Logf("the other process's %d orders reached this one's index in %s", n, took.Round(time.Millisecond))
	expectFeed(t, feed, orderstore.ChangeAdded, n, true)
	expectFeedEmpty(t, feed)
	if got := in.do("remove", 0, gone); got != gone {
		t.Fatalf("the other process removed %d orders, want %d", got, gone)
	}
	took = waitForCount(t, served, n-gone)
	t.Logf("its %d removals reached this one's index in %s", gone, took.Round(time.Millisecond))
	expectFeed(t, feed, orderstore.ChangeRemoved, gone, false)
	expectFeedEmpty(t, feed)
	waitForCount(t, late, n-gone)
	expectFeed(t, lateFeed, orderstore.ChangeAdded, n, true)
	expectFeed(t, lateFeed, orderstore.ChangeRemoved, gone, false)
	expectFeedEmpty(t, lateFeed)
	// Both add some orders at once, overlapping: each is stored and
	// counted once.
	if got, err := served.AddOrders(context.Background(), intakeOrders(n-100, 300)); err != nil || got != 200 {
		t.Fatalf("this process added %d new orders, %v; want 200", got, err)
	}
	if got := in.do("add", n+100, 200); got != 100 {
		t.Fatalf("the other process added %d new orders, want 100", got)
	}
	total := n - gone + 300
	waitForCount(t, served, total)
	expectFeed(t, feed, orderstore.ChangeAdded, 300, true)
	expectFeedEmpty(t, feed)
	if feed.Missed() != 0 {
		t.Fatalf("the feed missed %d changes", feed.Missed())
	}

	fresh := open(t, url)
	want, have := fresh.ReconcileSnapshotAll(256), served.ReconcileSnapshotAll(256)
	wantDigest, _ := want.Digest.AppendBinary(nil)
	haveDigest, _ := have.Digest.AppendBinary(nil)
	if have.Count != want.Count || string(haveDigest) != string(wantDigest) || !slices.Equal(have.Symbols, want.Symbols) {
		t.Fatalf("the followed index (%d orders) differs from one read from the table (%d)", have.Count, want.Count)
	}

	// A requester syncs from this process over reconcile and gets every
	// order the database holds, most of which the other process wrote.
	hosts := testnet.New(t, 2)
	startService(t, ordersync.NewHostNode(hosts[0]), reconcile.New(served, nil))
	requesterStore := orderstore.NewMemory()
	requester := startService(t, ordersync.NewHostNode(hosts[1]), reconcile.New(requesterStore, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := requester.GetOrders(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got, want := pageAllHashes(t, requesterStore), pageAllHashes(t, fresh); !slices.Equal(got, want) || len(got) != total {
		t.Fatalf("the requester holds %d orders, the database %d (want %d)", len(got), len(want), total)
	}
}

// expectFeed reads count changes of kind, of distinct orders (carrying the
// order, when withOrder). The changes were all applied before: nothing is
// on its way.
func expectFeed(t *testing.T, sub *orderstore.Subscription, kind orderstore.ChangeKind, count int, withOrder bool) {
	t.Helper()
	seen := make(map[common.Hash]bool, count)
	for range count {
		var c orderstore.Change
		select {
		case c = <-sub.Changes():
		default:
			t.Fatalf("the feed has %d changes, want %d", len(seen), count)
		}
		if c.Kind != kind || seen[c.Hash] {
			t.Fatalf("change %v of %s (seen before: %v); want %v of distinct orders", c.Kind, c.Hash, seen[c.Hash], kind)
		}
		if withOrder {
			if c.Order == nil {
				t.Fatalf("change %v of %s carries no order", c.Kind, c.Hash)
			}
			if h, err := c.Order.ComputeOrderHash(); err != nil || h != c.Hash {
				t.Fatalf("change %v of %s carries another order", c.Kind, c.Hash)
			}
		}
		seen[c.Hash] = true
	}
}

// expectFeedEmpty checks that nothing more is on the feed.
func expectFeedEmpty(t *testing.T, sub *orderstore.Subscription) {
	t.Helper()
	select {
	case c := <-sub.Changes():
		t.Fatalf("an extra change %v of %s", c.Kind, c.Hash)
	default:
	}
}
