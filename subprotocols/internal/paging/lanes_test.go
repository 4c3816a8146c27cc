package paging

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
)

// minus1 is h − 1 (h must not be zero).
func minus1(h common.Hash) common.Hash {
	return common.BigToHash(new(big.Int).Sub(h.Big(), big.NewInt(1)))
}

func TestSplitLanesCoverTheRestContiguously(t *testing.T) {
	quarter := common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 254))
	for _, tc := range []struct {
		name         string
		prev, cursor common.Hash
		n, want      int
	}{
		{"many pages left", common.Hash{}, common.BigToHash(big.NewInt(1000)), 4, 4},
		{"one lane asked", common.Hash{}, common.BigToHash(big.NewInt(1000)), 1, 0},
		// A page covered a quarter of the space: not quite three pages left.
		{"under three pages left", common.Hash{}, quarter, 4, 0},
		// A 64th: 63 pages left, ten or more for each of 6 lanes.
		{"63 pages left", common.Hash{}, common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 250)), 8, 6},
		{"63 pages left, fewer lanes asked", common.Hash{}, common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 250)), 4, 4},
		// A 16th: 15 pages left, too few for two lanes of ten.
		{"15 pages left", common.Hash{}, common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 252)), 8, 0},
		{"one page left", quarter, common.BigToHash(new(big.Int).Lsh(big.NewInt(1), 255)), 4, 0},
		{"cursor at the top", common.Hash{}, common.HexToHash("0x" + "ff" + "ff" + "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"), 4, 0},
		{"cursor did not move", quarter, quarter, 4, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lanes := SplitLanes(tc.prev, tc.cursor, tc.n)
			if len(lanes) != tc.want {
				t.Fatalf("%d lanes, want %d: %+v", len(lanes), tc.want, lanes)
			}
			if len(lanes) == 0 {
				return
			}
			if lanes[0].After != tc.cursor {
				t.Errorf("first lane after %s, want the cursor %s", lanes[0].After, tc.cursor)
			}
			for i, l := range lanes {
				last := i == len(lanes)-1
				if l.Bounded == last {
					t.Errorf("lane %d bounded %v", i, l.Bounded)
				}
				if last {
					continue
				}
				if l.End.Cmp(l.After) <= 0 {
					t.Errorf("lane %d is empty: after %s, end %s", i, l.After, l.End)
				}
				// The next lane asks for the orders after the hash before
				// this one's end: nothing between them is lost or taken
				// twice.
				if next := lanes[i+1].After; next != minus1(l.End) {
					t.Errorf("lane %d ends at %s, lane %d starts after %s", i, l.End, i+1, next)
				}
			}
		})
	}
}

func TestAcceptLaneDropsTheNextLanesOrders(t *testing.T) {
	orders := sortedOrders(t, 0, 30)
	h := func(i int) common.Hash { return hashOf(t, orders[i]) }
	scorer := &recordingScorer{}
	store := orderstore.NewMemory()
	p := NewPager(store, nil, WithPeerScorer(scorer))
	rec := recordOn(p)
	ctx := context.Background()

	// A lane from orders[5] (its first request asks after the hash just
	// before it) to orders[12], where the next lane starts.
	lane := Lane{After: minus1(h(5)), End: h(12), Bounded: true}
	page := Page{Provider: provider, Orders: orders[5:10], Through: h(9)}
	if next, done, err := p.PeekLane(page, lane); err != nil || done || next != h(9) {
		t.Fatalf("peek of the first page: %s, %v, %v", next, done, err)
	}
	acc, err := p.AcceptLane(ctx, page, lane)
	if err != nil || acc.Done || acc.Valid != 5 || acc.Next != h(9) {
		t.Fatalf("first page: %+v, %v", acc, err)
	}
	// The lane's cursor is in the request, not in the Pager: Accept's own
	// cursor for the provider did not move.
	if c := p.Cursor(provider); c != (common.Hash{}) {
		t.Errorf("per-provider cursor moved to %s", c)
	}

	// The next page runs into the next lane: orders[12] (exactly at its
	// start) and after are dropped, and the lane ends.
	lane.After = h(9)
	page = Page{Provider: provider, Orders: orders[10:15], Through: h(14)}
	if _, done, err := p.PeekLane(page, lane); err != nil || !done {
		t.Fatalf("peek of the last page: done %v, %v", done, err)
	}
	acc, err = p.AcceptLane(ctx, page, lane)
	if err != nil || !acc.Done || acc.Valid != 2 {
		t.Fatalf("last page: %+v, %v", acc, err)
	}
	if store.Len() != 7 {
		t.Errorf("stored %d orders, want the lane's 7", store.Len())
	}
	if c := rec.counts(); c != (counts{New: 7}) {
		t.Errorf("counts %+v: the next lane's orders are not rejections", c)
	}
	if s := scorer.score(provider, peerscore.InvalidOrder); s != 0 {
		t.Errorf("provider scored %d for the next lane's orders", s)
	}

	// A lane with no order of its own: the page holds only the next
	// lane's, and the lane ends with nothing taken.
	empty := Lane{After: h(20), End: h(21), Bounded: true}
	acc, err = p.AcceptLane(ctx, Page{Provider: provider, Orders: orders[21:25]}, empty)
	if err != nil || !acc.Done || acc.Valid != 0 {
		t.Fatalf("empty lane: %+v, %v", acc, err)
	}

	// The provider says it scanned past the lane's end: the lane ends
	// with what it sent.
	acc, err = p.AcceptLane(ctx, Page{Provider: provider, Orders: orders[25:27], Through: h(29)}, Lane{After: h(24), End: h(28), Bounded: true})
	if err != nil || !acc.Done || acc.Valid != 2 {
		t.Fatalf("scanned past the end: %+v, %v", acc, err)
	}

	// The last lane is not bounded: it goes on to the complete response.
	last := Lane{After: h(27)}
	acc, err = p.AcceptLane(ctx, Page{Provider: provider, Orders: orders[28:]}, last)
	if err != nil || acc.Done || acc.Next != h(29) {
		t.Fatalf("last lane: %+v, %v", acc, err)
	}
	acc, err = p.AcceptLane(ctx, Page{Provider: provider, Complete: true}, Lane{After: h(29)})
	if err != nil || !acc.Done {
		t.Fatalf("complete: %+v, %v", acc, err)
	}
}

func TestAcceptLaneHoldsOrdersBeforeItsCursorAgainstTheProvider(t *testing.T) {
	orders := sortedOrders(t, 0, 20)
	h := func(i int) common.Hash { return hashOf(t, orders[i]) }
	scorer := &recordingScorer{}
	p := NewPager(orderstore.NewMemory(), nil, WithPeerScorer(scorer))
	rec := recordOn(p)
	lane := Lane{After: h(9), End: h(15), Bounded: true}

	// Asked for the orders after orders[9], the provider sends some
	// before: they are out of range, and its fault, since the lane's
	// cursor is the one it was asked from.
	acc, err := p.AcceptLane(context.Background(), Page{Provider: provider, Orders: orders[7:13]}, lane)
	if err != nil || acc.Valid != 3 || acc.Next != h(12) {
		t.Fatalf("accept: %+v, %v", acc, err)
	}
	if c := rec.counts(); c.OutOfRange != 3 {
		t.Errorf("counts %+v, want 3 out of range", c)
	}
	if s := scorer.score(provider, peerscore.InvalidOrder); s >= 0 {
		t.Errorf("provider's %s score %d, want it lowered", peerscore.InvalidOrder, s)
	}

	// Only orders before the cursor: the lane cannot move.
	if _, err := p.AcceptLane(context.Background(), Page{Provider: provider, Orders: orders[3:8]}, lane); err == nil {
		t.Errorf("a page entirely before the lane's cursor was accepted")
	}
}
