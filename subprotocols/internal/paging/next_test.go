package paging

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// TestPeekNextIsAcceptsNext holds peekNext to Accept: for every kind of
// page, the cursor, done and error that peekNext works out before the
// page is checked are what Accept then reports, and peekNext changes
// nothing.
func TestPeekNextIsAcceptsNext(t *testing.T) {
	orders := sortedOrders(t, 0, 12)
	badSig := copyOrder(orders[9])
	badSig.Signature[5] ^= 0xff
	tampered := copyOrder(orders[9])
	tampered.Salt = new(big.Int).Add(tampered.Salt, common.Big1) // Salt is shared with orders[9]
	tampered.ResetHash()

	cases := []struct {
		name  string
		start []*zeroex.SignedOrder // a first page, accepted beforehand
		page  Page
	}{
		{name: "honest", page: Page{Orders: orders[:5]}},
		{name: "last order has a bad signature", page: Page{Orders: append(clone(orders[:4]), badSig)}},
		{name: "last order tampered with", page: Page{Orders: append(clone(orders[:4]), tampered)}},
		{name: "unsorted", page: Page{Orders: []*zeroex.SignedOrder{orders[3], orders[1], orders[2]}}},
		{name: "nil order", page: Page{Orders: []*zeroex.SignedOrder{orders[0], nil}}},
		{name: "past through", page: Page{Orders: orders[:5], Through: hashOf(t, orders[2])}},
		{name: "through, next from through", page: Page{Orders: orders[:5], Through: hashOf(t, orders[7]), NextFromThrough: true}},
		{name: "second page", start: orders[:5], page: Page{Orders: orders[5:10]}},
		{name: "same page again (stalled)", start: orders[:5], page: Page{Orders: orders[:5]}},
		{name: "through behind the cursor (stalled)", start: orders[:5], page: Page{Orders: orders[5:7], Through: hashOf(t, orders[1]), NextFromThrough: true}},
		{name: "empty, incomplete", page: Page{Orders: []*zeroex.SignedOrder{}}},
		{name: "empty, complete", page: Page{Complete: true}},
		{name: "complete with orders", page: Page{Orders: orders[:3], Complete: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := NewPager(orderstore.NewMemory(), nil)
			rec := recordOn(p)
			if tc.start != nil {
				if _, err := p.Accept(ctx, Page{Provider: provider, Orders: tc.start}); err != nil {
					t.Fatal(err)
				}
			}
			tc.page.Provider = provider
			before := rec.counts()
			next, done, nextErr := p.peekNext(tc.page)
			again, _, _ := p.peekNext(tc.page)
			if again != next {
				t.Fatalf("peekNext changed its own answer: %s, then %s", next, again)
			}
			if after := rec.counts(); after != before {
				t.Fatalf("peekNext changed the stats: %+v, then %+v", before, after)
			}
			acc, accErr := p.Accept(ctx, tc.page)
			if !sameError(nextErr, accErr) {
				t.Fatalf("peekNext error %v, Accept error %v", nextErr, accErr)
			}
			if accErr == nil && (done != acc.Done || next != acc.Next) {
				t.Fatalf("peekNext: next %s done %v; Accept: next %s done %v", next, done, acc.Next, acc.Done)
			}
		})
	}
}

func clone(orders []*zeroex.SignedOrder) []*zeroex.SignedOrder {
	return append([]*zeroex.SignedOrder(nil), orders...)
}

// sameError reports whether a and b are both nil or both one of Accept's
// sentinel errors.
func sameError(a, b error) bool {
	for _, sentinel := range []error{ErrCursorStalled, ErrEmptyIncompletePage} {
		if errors.Is(a, sentinel) != errors.Is(b, sentinel) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}
