package ordersync

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// A validator that fails, panics or answers for the wrong number of
// orders has its batch ignored and logged at Warn; expired orders are
// rejected before it sees them.
func TestValidationCheck(t *testing.T) {
	// ordergen's orders expire at distinct random seconds over 30 days:
	// the earliest first, and the clock within the margin of it only.
	batch := slices.SortedFunc(slices.Values(orders(3, 4)), func(a, b *zeroex.SignedOrder) int {
		return cmp.Compare(orderstore.ExpirationOf(a), orderstore.ExpirationOf(b))
	})
	exp := orderstore.ExpirationOf(batch[0])
	if orderstore.ExpirationOf(batch[1]) <= exp+1 {
		t.Fatal("the fixture's two earliest orders expire within a second of each other")
	}
	expiry := orderstore.Expiry{Now: func() time.Time { return time.Unix(exp, 0) }, Margin: time.Second}
	for _, tc := range []struct {
		name     string
		validate Validator
		want     ValidationResult // for the orders not expired
		warns    bool
	}{
		{"accepts", func(_ context.Context, _ peer.ID, o []*zeroex.SignedOrder) ([]Verdict, error) {
			if len(o) != 3 {
				return nil, errors.New("shown an expired order")
			}
			return make([]Verdict, len(o)), nil
		}, ValidationAccept, false},
		{"fails", func(context.Context, peer.ID, []*zeroex.SignedOrder) ([]Verdict, error) {
			return nil, errors.New("chain node down")
		}, ValidationIgnore, true},
		{"short answer", func(context.Context, peer.ID, []*zeroex.SignedOrder) ([]Verdict, error) {
			return make([]Verdict, 1), nil
		}, ValidationIgnore, true},
		{"panics", func(context.Context, peer.ID, []*zeroex.SignedOrder) ([]Verdict, error) {
			panic("bug")
		}, ValidationIgnore, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, hook := logtest.NewNullLogger()
			v := &Validation{validator: tc.validate, timeout: time.Second, expiry: expiry, log: log}
			got := v.Check(context.Background(), "", batch)
			if got[0] != (Verdict{Result: ValidationReject, Reason: RejectExpired}) {
				t.Errorf("expired order: %+v", got[0])
			}
			for i, verdict := range got[1:] {
				if verdict.Result != tc.want {
					t.Errorf("order %d: %+v, want result %d", i+1, verdict, tc.want)
				}
			}
			warned := len(hook.AllEntries()) > 0 && hook.LastEntry().Level == logrus.WarnLevel
			if warned != tc.warns {
				t.Errorf("warned %v, want %v", warned, tc.warns)
			}
		})
	}
}
