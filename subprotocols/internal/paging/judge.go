package paging

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/zeroex"
)

// validationBox holds a Validation for atomic.Pointer.
type validationBox struct{ v *ordersync.Validation }

// UseValidation makes the requester pipeline run v's checks (expiry, the
// node's Validator) on the orders that pass its own, before storing them
// (see ordersync.ValidationUser: the Service calls it).
func (p *Pager) UseValidation(v *ordersync.Validation) {
	p.validation.Store(&validationBox{v})
}

// Expiry is the Service's expiry rule (ordersync.WithExpiry), the system
// clock with no margin until UseValidation is called.
func (p *Pager) Expiry() orderstore.Expiry { return p.validationOf().Expiry() }

func (p *Pager) validationOf() *ordersync.Validation {
	if b := p.validation.Load(); b != nil {
		return b.v
	}
	return nil
}

// kept is what became of a page's surviving orders after the node's
// checks and the store.
type kept struct {
	orders []*zeroex.SignedOrder // stored, new or held already
	added  int                   // of them, new to the store
	// rejected are the hashes of orders refused on what the order hash
	// covers (the node's Validator, expiry, the store's own rules): the
	// same in every copy.
	rejected []common.Hash
	// ignored are the hashes of orders the Validator did not judge
	// (ValidationIgnore, or it failed): no verdict to remember.
	ignored []common.Hash
}

// judgeAndStore runs the node's checks on survivors, then stores those
// that pass, counting and scoring what was refused.
// heldBefore, when not nil, says which survivors the store held before:
// those need no look-up to tell a refusal from an order held already.
func (p *Pager) judgeAndStore(ctx context.Context, provider peer.ID, survivors []*zeroex.SignedOrder, heldBefore []bool) (kept, error) {
	var k kept
	v := p.validationOf()
	verdicts := v.Check(ctx, provider, survivors)
	if err := ctx.Err(); err != nil {
		return k, err
	}
	passHeld := 0
	for i, verdict := range verdicts {
		if verdict.Result == ordersync.ValidationAccept && heldBefore != nil && heldBefore[i] {
			passHeld++
		}
	}
	if accepted(verdicts) {
		// The common case: nothing to count, score or remember.
		return p.keep(ctx, provider, survivors, passHeld, k)
	}
	pass := survivors[:0:0]
	reasons := map[ordersync.RejectReason]int{}
	scored := false
	for i, verdict := range verdicts {
		o := survivors[i]
		switch verdict.Result {
		case ordersync.ValidationAccept:
			pass = append(pass, o)
			continue
		case ordersync.ValidationIgnore:
			reasons[ordersync.RejectIgnored]++
			if h, err := o.ComputeOrderHash(); err == nil {
				k.ignored = append(k.ignored, h)
			}
			continue
		}
		reasons[verdict.Reason]++
		if h, err := o.ComputeOrderHash(); err == nil {
			k.rejected = append(k.rejected, h)
		}
		if verdict.Reason != ordersync.RejectExpired || v.FarPast(o) {
			scored = true
		}
	}
	tracer := p.metrics()
	for r, n := range reasons {
		tracer.OrdersRejected(provider, r, n)
	}
	if scored && v.RejectDelta() != 0 {
		p.cfg.scorer.AddPeerScore(provider, peerscore.RejectedOrder, v.RejectDelta())
	}
	if len(pass) == 0 {
		return k, nil
	}
	return p.keep(ctx, provider, pass, passHeld, k)
}

// accepted reports whether every verdict accepts.
func accepted(verdicts []ordersync.Verdict) bool {
	for _, v := range verdicts {
		if v.Result != ordersync.ValidationAccept {
			return false
		}
	}
	return true
}

// keep adds orders to the store and finds out which it kept: when it
// reports fewer new than it was given, those it does not hold now were
// refused (by its own rules: expired, beyond its maximum expiration) and
// are counted as rejected and not passed on. The store's AddOrders is what
// is called, not orderstore.Admitter's AdmitOrders, so that a store that
// wraps Memory and refuses orders in its own AddOrders is obeyed. A store
// that cannot be asked what it holds (no orderstore.Getter) is taken to
// have kept everything.
// heldBefore of orders were in the store already: when the others were all
// new, nothing was refused and nothing needs looking up.
func (p *Pager) keep(ctx context.Context, provider peer.ID, orders []*zeroex.SignedOrder, heldBefore int, k kept) (kept, error) {
	if !p.cfg.companion {
		p.validationOf().Synced(provider, orders)
	}
	added, err := p.store.AddOrders(ctx, orders)
	if err != nil {
		return k, storeError(len(orders), provider, err)
	}
	k.added = added
	held := p.heldNow(ctx, orders, added+heldBefore)
	if held == nil {
		k.orders = orders
		return k, nil
	}
	expiry := p.validationOf().Expiry()
	refused := map[ordersync.RejectReason]int{}
	for i, o := range orders {
		if held[i] {
			k.orders = append(k.orders, o)
			continue
		}
		reason := ordersync.RejectStoreRefused
		if expiry.Expired(o) {
			reason = ordersync.RejectExpired
		}
		refused[reason]++
		if h, err := o.ComputeOrderHash(); err == nil {
			k.rejected = append(k.rejected, h)
		}
	}
	for r, n := range refused {
		p.metrics().OrdersRejected(provider, r, n)
	}
	return k, nil
}

// heldNow reports which of orders, just added, the store holds; nil when
// all of them (accounted, the new and those held before, for all) or when
// it cannot tell.
func (p *Pager) heldNow(ctx context.Context, orders []*zeroex.SignedOrder, accounted int) []bool {
	if accounted >= len(orders) {
		return nil
	}
	hashes := make([]common.Hash, len(orders))
	for i, o := range orders {
		hashes[i], _ = o.ComputeOrderHash() // cached: hashed by the pipeline
	}
	held := make([]bool, len(orders))
	switch store := p.store.(type) {
	case orderstore.ManyGetter:
		got, err := store.GetMany(ctx, hashes)
		if err != nil || len(got) != len(hashes) {
			return nil
		}
		for i, o := range got {
			held[i] = o != nil
		}
	case orderstore.Getter:
		for i, h := range hashes {
			_, held[i] = store.Get(h)
		}
	default:
		return nil
	}
	return held
}

// storeError is the error of a store that failed: the node's own trouble,
// not the provider's (ordersync.ErrStore).
func storeError(n int, provider peer.ID, err error) error {
	return fmt.Errorf("%w: storing %d orders from %s: %w", ordersync.ErrStore, n, provider, err)
}
