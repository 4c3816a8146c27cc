package ordersync

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// ValidationResult is a Validator's answer for one order, as
// go-libp2p-pubsub's topic validators answer for a message.
type ValidationResult uint8

const (
	// ValidationAccept: the order is good; it is stored.
	ValidationAccept ValidationResult = iota
	// ValidationReject: the order is bad (expired, filled, cancelled,
	// unfunded...). It is not stored, is counted under the Verdict's
	// Reason, moves the provider's score (WithValidatorScore), and its
	// hash is remembered as one not to fetch again: a rejection judges
	// what the order hash covers, the same in every copy.
	ValidationReject
	// ValidationIgnore: the order is not stored, and nothing is held
	// against the provider: the validator could not tell (its chain node
	// was down, say). It is counted under RejectIgnored.
	ValidationIgnore
)

// Verdict is a Validator's answer for one order.
type Verdict struct {
	// Result is accept (the zero Verdict), reject or ignore.
	Result ValidationResult
	// Reason says why an order was rejected: one of RejectReasons, as
	// RejectExpired, RejectFilled, RejectCancelled, RejectUnfunded; any
	// other is counted as RejectOther. Unused unless Result is
	// ValidationReject.
	Reason RejectReason
}

// Validator is a node's own check of the orders a provider sent, run after
// the library's (well formed, in range, signed by the maker, within the
// requester's filter) and before the orders reach the store: 0x Mesh ran
// every order through its order watcher at that point. It is called once
// per page, with the page's surviving orders, so a validator that asks a
// chain can ask for the whole batch in one call.
//
// It returns one Verdict per order, in the orders' order. It must return
// by the deadline of ctx (WithValidator's timeout); an error, a late
// answer or a wrong number of verdicts counts as ValidationIgnore for the
// whole batch, and is logged at Warn. It must not modify the orders, and
// may be called from several syncs at once.
type Validator func(ctx context.Context, provider peer.ID, orders []*zeroex.SignedOrder) ([]Verdict, error)

// DefaultValidatorTimeout bounds a Validator's call for one batch when
// WithValidator is given no timeout.
const DefaultValidatorTimeout = 10 * time.Second

// DefaultValidatorRejectDelta is what a page with orders that the
// Validator rejected adds to the provider's score under
// peerscore.RejectedOrder, as 0x Mesh scored a peer for invalid orders.
const DefaultValidatorRejectDelta = -5

// WithValidator has every subprotocol of the Service (those that are
// ValidationUsers, as all of this module's are) run v on the orders of
// each page that passed the library's checks, each call bounded by
// timeout (0: DefaultValidatorTimeout). See Validator and Verdict for what
// its answers do. Default: no validator.
func WithValidator(v Validator, timeout time.Duration) Option {
	return func(c *config) error {
		if v == nil {
			return fmt.Errorf("ordersync: validator: must not be nil")
		}
		if timeout < 0 {
			return fmt.Errorf("ordersync: validator timeout %v: must not be negative", timeout)
		}
		if timeout == 0 {
			timeout = DefaultValidatorTimeout
		}
		c.validator, c.validatorTimeout = v, timeout
		return nil
	}
}

// WithValidatorScore sets what a page holding orders that the Validator
// rejected adds to the provider's score under peerscore.RejectedOrder:
// 0 scores nothing. Default DefaultValidatorRejectDelta.
func WithValidatorScore(delta int) Option {
	return func(c *config) error {
		if delta > 0 {
			return fmt.Errorf("ordersync: validator score %d: must not be positive", delta)
		}
		c.validatorDelta = delta
		return nil
	}
}

// DefaultClockSkew is how far the clocks of honest peers may differ, by
// default (WithClockSkew): an order that expired longer ago than this is
// scored against the provider that sent it; one that expired more
// recently is only rejected.
const DefaultClockSkew = 5 * time.Minute

// WithExpiry sets when the Service counts an order as expired: within
// e.Margin of its expiration time by the clock e.Now (nil: time.Now). A
// requester rejects such orders (RejectExpired) before its Validator sees
// them, and a subprotocol that is a ValidationUser leaves them out of what
// it serves and of its own reconciliation set. Give the store the same
// Expiry (orderstore.WithExpiry, WithClock for Memory), so that peers and
// stores judge expiry alike. Default: the system clock, no margin.
func WithExpiry(e orderstore.Expiry) Option {
	return func(c *config) error {
		if e.Margin < 0 {
			return fmt.Errorf("ordersync: expiry margin %v: must not be negative", e.Margin)
		}
		c.expiry = e
		return nil
	}
}

// WithClockSkew sets how far honest peers' clocks may differ
// (DefaultClockSkew): only orders expired longer ago than that are held
// against the provider that sent them.
func WithClockSkew(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("ordersync: clock skew %v: must not be negative", d)
		}
		c.clockSkew = d
		return nil
	}
}

// ValidationUser is implemented by a Subprotocol that runs the Service's
// node-level checks (WithValidator, WithExpiry) on the orders it receives:
// New calls UseValidation once, before any sync, on each subprotocol that
// has it.
type ValidationUser interface {
	UseValidation(*Validation)
}

// Validation is the Service's checks of orders received, beyond the
// library's own, that it hands its subprotocols: expiry (WithExpiry) and
// the node's Validator. It also holds the Service's one view of the
// orders being fetched (NewClaims, SyncClaims, Await) and of the shares
// of the hash space that first syncs page (TakeShare and the methods
// after it), shared by every sync and by news. Its methods are safe for
// concurrent use.
type Validation struct {
	validator Validator
	timeout   time.Duration
	delta     int
	expiry    orderstore.Expiry
	skew      time.Duration
	log       logrus.FieldLogger
	missing   missingView // the orders being fetched now, shared by every call
	shares    shareBoard  // the first syncs paging now, and their shares
}

// Check judges orders that provider sent and that passed the library's
// checks: one Verdict per order. An order expired by the Service's Expiry
// is rejected with RejectExpired; the others go to the Validator, if
// there is one. A nil Validation accepts everything.
func (v *Validation) Check(ctx context.Context, provider peer.ID, orders []*zeroex.SignedOrder) []Verdict {
	verdicts := make([]Verdict, len(orders))
	if v == nil || len(orders) == 0 {
		return verdicts
	}
	cutoff := v.expiry.Cutoff()
	expired := 0
	for i, o := range orders {
		if orderstore.ExpirationOf(o) <= cutoff {
			verdicts[i] = Verdict{Result: ValidationReject, Reason: RejectExpired}
			expired++
		}
	}
	if v.validator == nil || expired == len(orders) {
		return verdicts
	}
	// The validator sees the orders that are not expired.
	rest := make([]*zeroex.SignedOrder, 0, len(orders)-expired)
	restIndex := make([]int, 0, len(orders)-expired)
	for i, o := range orders {
		if verdicts[i].Result == ValidationAccept {
			rest = append(rest, o)
			restIndex = append(restIndex, i)
		}
	}
	got := v.callValidator(ctx, provider, rest)
	for j, verdict := range got {
		verdicts[restIndex[j]] = verdict
	}
	return verdicts
}

// callValidator runs the Validator within its timeout; any failure is
// ValidationIgnore for all of orders.
func (v *Validation) callValidator(ctx context.Context, provider peer.ID, orders []*zeroex.SignedOrder) []Verdict {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	type answer struct {
		verdicts []Verdict
		err      error
	}
	done := make(chan answer, 1) // a late validator never blocks
	go func() {
		var a answer
		defer func() {
			if r := recover(); r != nil {
				a = answer{err: fmt.Errorf("validator panicked: %v", r)}
			}
			done <- a
		}()
		a.verdicts, a.err = v.validator(ctx, provider, orders)
	}()
	var a answer
	select {
	case a = <-done:
	case <-ctx.Done():
		a.err = fmt.Errorf("validator: %w", ctx.Err())
	}
	if a.err == nil && len(a.verdicts) != len(orders) {
		a.err = fmt.Errorf("validator returned %d verdicts for %d orders", len(a.verdicts), len(orders))
	}
	if a.err != nil {
		v.log.WithError(a.err).WithFields(logrus.Fields{"provider": provider, "orders": len(orders)}).Warn("ordersync: validator failed; orders ignored")
		ignored := make([]Verdict, len(orders))
		for i := range ignored {
			ignored[i].Result = ValidationIgnore
		}
		return ignored
	}
	return a.verdicts
}

// RejectDelta is what a page with rejected orders adds to the provider's
// score under peerscore.RejectedOrder (WithValidatorScore).
func (v *Validation) RejectDelta() int {
	if v == nil {
		return 0
	}
	return v.delta
}

// FarPast reports whether o expired so long ago (beyond the clock skew
// peers may have) that a provider that sent it is at fault: only then is
// an expired order scored.
func (v *Validation) FarPast(o *zeroex.SignedOrder) bool {
	if v == nil {
		return false
	}
	now := time.Now
	if v.expiry.Now != nil {
		now = v.expiry.Now
	}
	return orderstore.ExpirationOf(o) < now().Add(-v.skew).Unix()
}

// Expiry is the Service's expiry rule (WithExpiry), which a provider
// applies to what it serves too; the zero Expiry when none was set.
func (v *Validation) Expiry() orderstore.Expiry {
	if v == nil {
		return orderstore.Expiry{}
	}
	return v.expiry
}

// Revalidate re-checks the orders store holds with the Service's checks
// (expiry and the Validator), batch orders at a time (0: 500), and
// removes those rejected through the store's orderstore.Remover; ignored
// orders stay. It returns how many it removed. The Validator is called
// with the node's own ID as the provider. 0x Mesh's order watcher did
// this against the chain, so that filled and cancelled orders leave each
// node's store by its own judgment: the protocol has no removal messages.
func (s *Service) Revalidate(ctx context.Context, store orderstore.Store, batch int) (int, error) {
	remover, ok := store.(orderstore.Remover)
	if !ok {
		return 0, fmt.Errorf("ordersync: Revalidate: the store cannot remove orders (orderstore.Remover)")
	}
	if batch <= 0 {
		batch = 500
	}
	if !s.life.enter() {
		return 0, fmt.Errorf("ordersync: Revalidate: %w", ErrClosed)
	}
	defer s.life.leave()
	ctx, cancel := s.life.bind(ctx)
	defer cancel()
	v := s.validation
	removed := 0
	var after common.Hash
	for {
		orders, err := store.OrdersAfter(ctx, after, batch)
		if err != nil {
			return removed, fmt.Errorf("ordersync: Revalidate: reading the store: %w", err)
		}
		if len(orders) == 0 {
			return removed, nil
		}
		verdicts := v.Check(ctx, s.node.ID(), orders)
		var bad []common.Hash
		for i, verdict := range verdicts {
			if verdict.Result != ValidationReject {
				continue
			}
			h, err := orders[i].ComputeOrderHash()
			if err == nil {
				bad = append(bad, h)
			}
		}
		if len(bad) > 0 {
			n, err := remover.Remove(ctx, bad...)
			removed += n
			if err != nil {
				return removed, fmt.Errorf("ordersync: Revalidate: removing %d orders: %w", len(bad), err)
			}
		}
		if len(orders) < batch {
			return removed, nil
		}
		if after, err = orders[len(orders)-1].ComputeOrderHash(); err != nil {
			return removed, fmt.Errorf("ordersync: Revalidate: %w", err)
		}
	}
}
