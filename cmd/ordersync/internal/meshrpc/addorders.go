package meshrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// validatorTimeout bounds one call of the Validator.
const validatorTimeout = 30 * time.Second

// AddOrders is mesh_addOrders: params [orders, {"pinned": bool}], or
// [orders] as clients before Mesh v9 send, which pins them as Mesh did.
func (a *api) AddOrders(ctx context.Context, orders []json.RawMessage, opts *addOrdersOptions) (*validationResults, error) {
	return a.s.addOrders(ctx, orders, opts == nil || opts.Pinned)
}

// candidate is an order that passed the checks so far.
type candidate struct {
	order *zeroex.SignedOrder
	hash  common.Hash
}

// addOrders runs each order through the checks a synced order gets, in
// the order of their cost (form, filter, expiry, signature, the node's
// validator, the store's own rules), stores those that pass, and answers
// for each: accepted (stored now or held already) or rejected with Mesh's
// code. An order given twice in one call is answered once, as in Mesh.
func (s *Server) addOrders(ctx context.Context, raw []json.RawMessage, pinned bool) (*validationResults, error) {
	if len(raw) > s.limits.MaxOrdersPerCall {
		return nil, invalidParams("%d orders in one call: at most %d", len(raw), s.limits.MaxOrdersPerCall)
	}
	res := &validationResults{Accepted: []*acceptedOrderInfo{}, Rejected: []*rejectedOrderInfo{}}
	expiry := s.expiry()
	maxExp, capped := s.maxExpiration()
	seen := make(map[common.Hash]bool, len(raw))
	cands := make([]candidate, 0, len(raw))
	for _, r := range raw {
		o := new(zeroex.SignedOrder)
		if err := o.UnmarshalJSON(r); err != nil {
			res.reject(nil, common.Hash{}, rejectSchema(err))
			continue
		}
		h, err := o.ComputeOrderHash()
		if err != nil {
			res.reject(nil, common.Hash{}, rejectSchema(err))
			continue
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		if err := s.cfg.Filter.ValidateOrder(o); err != nil {
			var mismatch *orderfilter.MismatchError
			if errors.As(err, &mismatch) && mismatch.Rule == orderfilter.RuleChainID {
				res.reject(o, h, rejectIncorrectChain)
			} else {
				res.reject(o, h, rejectSchema(err))
			}
			continue
		}
		if expiry.Expired(o) {
			res.reject(o, h, rejectExpired)
			continue
		}
		if !pinned && capped && orderstore.ExpirationOf(o) > maxExp.Unix() {
			res.reject(o, h, rejectMaxExpiration)
			continue
		}
		cands = append(cands, candidate{o, h})
	}

	cands = s.checkSignatures(cands, res)
	cands, err := s.validate(ctx, cands, res)
	if err != nil {
		return nil, err
	}
	if len(cands) > 0 {
		s.store(ctx, cands, pinned, res)
	}
	return res, nil
}

// checkSignatures rejects the candidates whose signature does not verify,
// on all cores, and returns the others.
func (s *Server) checkSignatures(cands []candidate, res *validationResults) []candidate {
	orders := make([]*zeroex.SignedOrder, len(cands))
	for i, c := range cands {
		orders[i] = c.order
	}
	errs := zeroex.VerifySignatures(orders)
	kept := cands[:0]
	for i, c := range cands {
		if errs[i] != nil {
			res.reject(c.order, c.hash, rejectInvalidSignature)
			continue
		}
		kept = append(kept, c)
	}
	return kept
}

// validate asks the node's Validator, when it has one, about the
// candidates, and returns those it accepts.
func (s *Server) validate(ctx context.Context, cands []candidate, res *validationResults) ([]candidate, error) {
	if s.cfg.Validator == nil || len(cands) == 0 {
		return cands, nil
	}
	orders := make([]*zeroex.SignedOrder, len(cands))
	for i, c := range cands {
		orders[i] = c.order
	}
	vctx, cancel := context.WithTimeout(ctx, validatorTimeout)
	defer cancel()
	verdicts, err := s.cfg.Validator(vctx, orders)
	if err == nil && len(verdicts) != len(orders) {
		err = fmt.Errorf("validator answered %d verdicts for %d orders", len(verdicts), len(orders))
	}
	if err != nil {
		s.log.Warnf("rpc: mesh_addOrders: validator: %v", err)
		for _, c := range cands {
			res.reject(c.order, c.hash, rejectInternal)
		}
		return nil, nil
	}
	kept := cands[:0]
	for i, c := range cands {
		if v := verdicts[i]; v != nil {
			res.reject(c.order, c.hash, *v)
			continue
		}
		kept = append(kept, c)
	}
	return kept, nil
}

// store adds the candidates to the store, pinned if asked and the store
// can pin, and answers for each. A store without Pinner keeps pinned
// orders as any other: without a capacity it never evicts one anyway.
func (s *Server) store(ctx context.Context, cands []candidate, pinned bool, res *validationResults) {
	orders := make([]*zeroex.SignedOrder, len(cands))
	for i, c := range cands {
		orders[i] = c.order
	}
	getter, _ := s.cfg.Store.(orderstore.Getter)
	held := func(h common.Hash) bool {
		if getter == nil {
			return false
		}
		_, ok := getter.Get(h)
		return ok
	}
	failed := func(err error) {
		r := rejectInternal
		if errors.Is(err, orderstore.ErrFull) {
			r = rejectDatabaseFull
		} else {
			s.log.Warnf("rpc: mesh_addOrders: store: %v", err)
		}
		for _, c := range cands {
			res.reject(c.order, c.hash, r)
		}
	}

	admitter, admits := s.cfg.Store.(orderstore.Admitter)
	add := s.cfg.Store.AddOrders
	if pinner, ok := s.cfg.Store.(orderstore.Pinner); ok && pinned {
		add, admits = pinner.AddPinnedOrders, false
	}
	if admits {
		admissions, err := admitter.AdmitOrders(ctx, orders)
		if err != nil {
			failed(err)
			return
		}
		for i, c := range cands {
			switch admissions[i] {
			case orderstore.Admitted:
				s.accepted(c, true, res)
			case orderstore.AlreadyHeld:
				s.accepted(c, false, res)
			case orderstore.RefusedExpired:
				res.reject(c.order, c.hash, rejectExpired)
			case orderstore.RefusedMaxExpiration:
				res.reject(c.order, c.hash, rejectMaxExpiration)
			default:
				res.reject(c.order, c.hash, rejectInternal)
			}
		}
		return
	}
	before := make([]bool, len(cands))
	for i, c := range cands {
		before[i] = held(c.hash)
	}
	added, err := add(ctx, orders)
	if err != nil {
		failed(err)
		return
	}
	for i, c := range cands {
		switch {
		case getter == nil:
			// The store cannot say which were new: all or none, by count.
			s.accepted(c, added == len(cands), res)
		case !held(c.hash):
			// Accepted means stored: the store refused it by a rule of its
			// own (an order expiring as it arrived) without saying which.
			res.reject(c.order, c.hash, rejectRefused)
		default:
			s.accepted(c, !before[i], res)
		}
	}
}

// accepted answers c as stored, and reports a new order as ADDED to the
// subscribers when the store has no change feed to do it.
func (s *Server) accepted(c candidate, isNew bool, res *validationResults) {
	res.Accepted = append(res.Accepted, &acceptedOrderInfo{
		OrderHash:                c.hash.Hex(),
		SignedOrder:              c.order,
		FillableTakerAssetAmount: fillableWhileHeld(c.order),
		IsNew:                    isNew,
	})
	if _, ok := s.cfg.Store.(orderstore.Subscriber); !ok && isNew {
		s.ownFeed.Publish(orderstore.Change{Kind: orderstore.ChangeAdded, Hash: c.hash, Order: c.order})
	}
}

func (r *validationResults) reject(o *zeroex.SignedOrder, h common.Hash, why Rejection) {
	r.Rejected = append(r.Rejected, &rejectedOrderInfo{
		OrderHash:   h.Hex(),
		SignedOrder: o,
		Kind:        why.Kind,
		Status:      rejectedStatus{Code: why.Code, Message: why.Message},
	})
}

// expiry is the rule orders are judged expired by: the store's, or the
// clock with no margin for a store without one.
func (s *Server) expiry() orderstore.Expiry {
	if e, ok := s.cfg.Store.(orderstore.Expirer); ok {
		if rule, ok := e.Expiry(); ok {
			return rule
		}
	}
	return orderstore.Expiry{Now: s.cfg.Now}
}

// maxExpiration is the store's MaxExpiration, false while it takes any.
func (s *Server) maxExpiration() (time.Time, bool) {
	if c, ok := s.cfg.Store.(orderstore.Capped); ok {
		return c.MaxExpiration()
	}
	return time.Time{}, false
}
