package paging

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// serveAll pages through p with filter and returns every order served,
// checking each page against the rules of docs/protocol.md.
func serveAll(t *testing.T, p *Pager, filter *orderfilter.Filter) []*zeroex.SignedOrder {
	t.Helper()
	var all []*zeroex.SignedOrder
	var after common.Hash
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("Serve never finished")
		}
		page, err := p.Serve(context.Background(), after, filter)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Orders) == 0 {
			return all
		}
		if len(page.Orders) > p.cfg.perPage {
			t.Fatalf("page of %d, more than %d", len(page.Orders), p.cfg.perPage)
		}
		prev := after
		for _, o := range page.Orders {
			h := hashOf(t, o)
			if bytes.Compare(h[:], prev[:]) <= 0 || bytes.Compare(h[:], page.LastScanned[:]) > 0 {
				t.Fatalf("order %s outside (%s, %s]", h, prev, page.LastScanned)
			}
			if filter != nil {
				if ok, _ := filter.MatchOrder(o); !ok {
					t.Fatalf("served order %s does not match", h)
				}
			}
			prev = h
		}
		all = append(all, page.Orders...)
		after = page.LastScanned
	}
}

func TestServePagesThroughTheStore(t *testing.T) {
	orders := sortedOrders(t, 0, 1234)
	p := NewPager(storeOf(t, orders), nil, WithPerPage(100))
	got := serveAll(t, p, nil)
	if len(got) != len(orders) {
		t.Fatalf("served %d orders, want %d", len(got), len(orders))
	}
	for i := range got {
		if got[i] != orders[i] {
			t.Fatalf("order %d differs", i)
		}
	}
}

func TestServeScansPastNonMatchingPages(t *testing.T) {
	orders := sortedOrders(t, 0, 2000)
	// One maker of ten: about a tenth match, so most store pages of 50
	// hold only a few matches and the scan has to go on.
	maker := orders[0].MakerAddress
	want := 0
	for _, o := range orders {
		if o.MakerAddress == maker {
			want++
		}
	}
	filter := makerFilter(t, maker)
	p := NewPager(storeOf(t, orders), nil, WithPerPage(50))
	got := serveAll(t, p, filter)
	if len(got) != want {
		t.Fatalf("served %d matching orders, want %d", len(got), want)
	}
	// Full pages except the last: scanning goes on until a page fills.
	page, err := p.Serve(context.Background(), common.Hash{}, filter)
	if err != nil || len(page.Orders) != 50 {
		t.Fatalf("first page: %d orders, %v", len(page.Orders), err)
	}
	if page.LastScanned != hashOf(t, page.Orders[49]) {
		t.Fatal("a full page must end its scan at its last order")
	}
}

func TestServeEmptyAndExhausted(t *testing.T) {
	p := NewPager(orderstore.NewMemory(), nil)
	cursor := common.Hash{0xab}
	page, err := p.Serve(context.Background(), cursor, nil)
	if err != nil || len(page.Orders) != 0 || page.LastScanned != cursor {
		t.Fatalf("empty store: %+v, %v", page, err)
	}

	// A filter that matches nothing scans to the end and answers empty.
	orders := sortedOrders(t, 0, 300)
	p = NewPager(storeOf(t, orders), nil, WithPerPage(20))
	page, err = p.Serve(context.Background(), common.Hash{}, makerFilter(t, common.Address{1}))
	if err != nil || len(page.Orders) != 0 || page.LastScanned != hashOf(t, orders[299]) {
		t.Fatalf("no match: %d orders, %v", len(page.Orders), err)
	}
}

func TestServeBoundsTheScan(t *testing.T) {
	orders := sortedOrders(t, 0, 300)
	nobody := makerFilter(t, common.Address{1})
	p := NewPager(storeOf(t, orders), nil, WithPerPage(20), WithMaxScan(100, DefaultMaxScanTime))
	if _, err := p.Serve(context.Background(), common.Hash{}, nobody); !errors.Is(err, ErrScanLimit) {
		t.Fatalf("scan past the bound without a match: err = %v", err)
	}

	// With some matches, the bound ends the page early, not empty.
	some := makerFilter(t, orders[0].MakerAddress)
	page, err := p.Serve(context.Background(), common.Hash{}, some)
	if err != nil || len(page.Orders) == 0 || len(page.Orders) >= 20 {
		t.Fatalf("bounded scan: %d orders, %v", len(page.Orders), err)
	}
	if page.LastScanned != hashOf(t, orders[99]) {
		t.Fatalf("bounded scan stopped at %s, want after 100 orders", page.LastScanned)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Serve(ctx, common.Hash{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
}

// Out-of-range options are refused with an error naming them, and New
// panics on them, as the root package's Options do.
func TestOptionsRefuseOutOfRange(t *testing.T) {
	for _, opt := range []Option{WithPerPage(0), WithPerPage(MaxPerPage + 1), WithMaxScan(0, time.Second), WithMaxScan(DefaultMaxScan, 0), WithMaxScan(10, time.Second), WithScanSlots(nil)} {
		if err := CheckOptions(opt); err == nil || !strings.HasPrefix(err.Error(), "pagination: ") {
			t.Errorf("CheckOptions: %v, want an error", err)
		}
	}
	if err := CheckOptions(WithPerPage(MaxPerPage), WithMaxScan(MaxPerPage, time.Millisecond), WithPeerScorer(nil)); err != nil {
		t.Errorf("options in range refused: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewPager took an invalid option")
		}
	}()
	NewPager(storeOf(t, nil), nil, WithPerPage(-1))
}
