package paging

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
)

// costlyBranch uses about 40 evaluation steps on every order and matches
// none (keywords beside $ref do not count in draft-07: hence the allOf).
const costlyBranch = `{"allOf":[{"$ref":"/signedOrder"},{"required":["noSuchField"]}]}`

// costlyFilter returns a filter that uses about the whole evaluation budget
// on every order, as the attack suite's, and matches the orders of the
// given makers (none when there are none).
func costlyFilter(t testing.TB, makers ...common.Address) *orderfilter.Filter {
	t.Helper()
	branches := make([]string, 0, 24)
	for range 24 - len(makers) {
		branches = append(branches, costlyBranch)
	}
	for _, m := range makers {
		branches = append(branches, fmt.Sprintf(`{"properties":{"makerAddress":{"const":%q}}}`, stringsToLower(m.Hex())))
	}
	return schemaFilter(t, `{"anyOf":[`+strings.Join(branches, ",")+`]}`)
}

// withClock makes the scan read its budget's clock from now.
func withClock(now func() time.Time) Option {
	return func(c *config) error {
		c.now = now
		return nil
	}
}

// steppingClock is a clock that moves step forward on every reading, and
// counts its readings.
type steppingClock struct {
	step  time.Duration
	reads atomic.Int64
}

func (c *steppingClock) now() time.Time {
	return time.Unix(0, 0).Add(time.Duration(c.reads.Add(1)-1) * c.step)
}

func TestServeStopsWhenItsTimeIsUp(t *testing.T) {
	orders := sortedOrders(t, 0, 1000)
	// The clock is read once at the start and then every scanCheckEvery
	// orders; 10 ms a reading passes a 55 ms budget at the sixth check.
	const checks = 6
	clock := &steppingClock{step: 10 * time.Millisecond}
	p := NewPager(storeOf(t, orders), nil, WithMaxScan(DefaultMaxScan, 55*time.Millisecond), withClock(clock.now))

	// No match when the time is up: ErrScanLimit, not the empty page that
	// a scan to the end of the store would answer.
	if _, err := p.Serve(context.Background(), common.Hash{}, costlyFilter(t)); !errors.Is(err, ErrScanLimit) {
		t.Fatalf("costly filter with no match: err = %v, want ErrScanLimit", err)
	}
	if got := clock.reads.Load(); got != 1+checks {
		t.Fatalf("clock read %d times, want %d", got, 1+checks)
	}

	// Some matches when the time is up: they are answered, and the page
	// ends where the scan stopped.
	clock.reads.Store(0)
	page, err := p.Serve(context.Background(), common.Hash{}, costlyFilter(t, orders[0].MakerAddress))
	if err != nil {
		t.Fatal(err)
	}
	stoppedAt := checks * scanCheckEvery
	if page.LastScanned != hashOf(t, orders[stoppedAt-1]) {
		t.Fatalf("scan ended at %s, want after %d orders", page.LastScanned, stoppedAt)
	}
	want := 0
	for _, o := range orders[:stoppedAt] {
		if o.MakerAddress == orders[0].MakerAddress {
			want++
		}
	}
	if len(page.Orders) != want || want == 0 {
		t.Fatalf("answered %d orders, want the %d matches among the first %d", len(page.Orders), want, stoppedAt)
	}
}

func TestServeLooksAtItsContextWithinABatch(t *testing.T) {
	orders := sortedOrders(t, 0, 2*DefaultPerPage)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reads atomic.Int64
	p := NewPager(storeOf(t, orders), nil, withClock(func() time.Time {
		if reads.Add(1) == 2 { // the first check, after scanCheckEvery orders
			cancel()
		}
		return time.Now()
	}))
	filter, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Serve(ctx, common.Hash{}, filter); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Cancelled at the first check, seen at the second: well within the
	// first batch of a page.
	if got := reads.Load(); got != 2 {
		t.Fatalf("scan went on for %d checks after its context ended", got-2)
	}
}

// slotWatch is a ScanSlots whose scans report to a test: held counts the
// scans holding a slot, and the most at once; each scan that takes a slot
// says so on took and then waits for release to close.
type slotWatch struct {
	*ScanSlots
	held, most atomic.Int64
	took       chan struct{}
	waiting    chan struct{}
	release    chan struct{}
}

func newSlotWatch(n int) *slotWatch {
	w := &slotWatch{
		ScanSlots: NewScanSlots(n),
		took:      make(chan struct{}, 16),
		waiting:   make(chan struct{}, 16),
		release:   make(chan struct{}),
	}
	w.onWait = func() { w.waiting <- struct{}{} }
	w.onHold = func() {
		n := w.held.Add(1)
		for m := w.most.Load(); n > m && !w.most.CompareAndSwap(m, n); m = w.most.Load() {
		}
		w.took <- struct{}{}
		<-w.release
	}
	w.onRelease = func() { w.held.Add(-1) }
	return w
}

func TestCostlyScansWaitForASlot(t *testing.T) {
	orders := sortedOrders(t, 0, 100)
	slots := newSlotWatch(2)
	p := NewPager(storeOf(t, orders), nil, WithScanSlots(slots.ScanSlots), WithMaxScan(DefaultMaxScan, time.Minute))
	costly := costlyFilter(t)

	// Two costly scans take both slots and keep them.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.Serve(context.Background(), common.Hash{}, costly)
			errs <- err
		}()
	}
	<-slots.took
	<-slots.took

	// A third waits rather than run beside them, until its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	third := make(chan error, 1)
	go func() {
		_, err := p.Serve(ctx, common.Hash{}, costly)
		third <- err
	}()
	select {
	case <-slots.waiting:
	case <-slots.took:
		t.Fatal("a third costly scan took a slot of two")
	}
	cancel()
	if err := <-third; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting scan: err = %v, want context.Canceled", err)
	}

	// Trivial filters do not need a slot: they are served meanwhile.
	def, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*orderfilter.Filter{"no filter": nil, "the default filter": def} {
		page, err := p.Serve(context.Background(), common.Hash{}, f)
		if err != nil || len(page.Orders) != len(orders) {
			t.Fatalf("%s while costly scans hold every slot: %d orders, %v", name, len(page.Orders), err)
		}
	}

	close(slots.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil { // the filter matches none: the store's end, an empty page
			t.Fatal(err)
		}
	}
	if most := slots.most.Load(); most != 2 {
		t.Fatalf("%d costly scans held a slot at once, want 2", most)
	}
	if held := slots.held.Load(); held != 0 {
		t.Fatalf("%d slots still held after every scan returned", held)
	}
}

func TestCostlyScanGivesUpWithoutASlot(t *testing.T) {
	orders := sortedOrders(t, 0, 10)
	slots := newSlotWatch(1)
	p := NewPager(storeOf(t, orders), nil, WithScanSlots(slots.ScanSlots), WithMaxScan(DefaultMaxScan, time.Millisecond))
	costly := costlyFilter(t)
	done := make(chan error, 1)
	go func() {
		_, err := p.Serve(context.Background(), common.Hash{}, costly)
		done <- err
	}()
	<-slots.took
	// The one slot stays held: the second scan waits its scan time for it,
	// then gives up.
	if _, err := p.Serve(context.Background(), common.Hash{}, costly); !errors.Is(err, ErrScanLimit) {
		t.Fatalf("no slot free: err = %v, want ErrScanLimit", err)
	}
	close(slots.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestManyCostlyScansNeverExceedTheCap(t *testing.T) {
	orders := sortedOrders(t, 0, 20)
	slots := newSlotWatch(2)
	close(slots.release) // scans run freely; only the count matters
	// Both subprotocols of a node share the cap.
	a := NewPager(storeOf(t, orders), nil, WithScanSlots(slots.ScanSlots), WithMaxScan(DefaultMaxScan, time.Minute))
	b := NewPager(storeOf(t, orders), nil, WithScanSlots(slots.ScanSlots), WithMaxScan(DefaultMaxScan, time.Minute))
	costly := costlyFilter(t)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := a
			if i%2 == 1 {
				p = b
			}
			if _, err := p.Serve(context.Background(), common.Hash{}, costly); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait() // 12 scans: the reports fit the channels' buffers
	if most := slots.most.Load(); most > 2 {
		t.Fatalf("%d costly scans ran at once, cap 2", most)
	}
}

func TestScanSlotsDefault(t *testing.T) {
	if got, want := NewScanSlots(0).Cap(), DefaultScanSlots(); got != want || want < 1 {
		t.Fatalf("NewScanSlots(0).Cap() = %d, want DefaultScanSlots() = %d (at least 1)", got, want)
	}
	if got := NewScanSlots(3).Cap(); got != 3 {
		t.Fatalf("NewScanSlots(3).Cap() = %d", got)
	}
}
