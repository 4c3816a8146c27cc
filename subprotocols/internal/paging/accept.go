package paging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordersig"
	"github.com/ordersync/ordersync/internal/parallel"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/zeroex"
)

// ErrCursorStalled is Accept's error when a response does not move the
// provider's cursor forward, as when a provider sends the same page again
// and again. The sync must end.
var ErrCursorStalled = errors.New("pagination: provider's cursor did not advance")

// ErrEmptyIncompletePage is Accept's error for a response with no orders
// that does not say it is complete: the cursor cannot advance.
var ErrEmptyIncompletePage = errors.New("pagination: provider sent no orders but did not complete")

// Page is a provider's response as the requester pipeline sees it.
type Page struct {
	// Provider sent the page.
	Provider peer.ID
	// Orders are the page's orders, straight from the peer.
	Orders []*zeroex.SignedOrder
	// Complete is the response's complete flag.
	Complete bool
	// Through is the hash the provider says it scanned to
	// (nextMinOrderHash, snapshotID); orders past it are out of range. The
	// zero hash means the provider did not say.
	Through common.Hash
	// NextFromThrough makes the next cursor Through (as page numbers do)
	// instead of the hash of the page's last order (as the order-hash
	// cursor does). When Through is zero, the last order's hash is used.
	NextFromThrough bool
}

// Accepted is what Accept made of a page.
type Accepted struct {
	// Valid is how many orders passed every check and the store kept
	// (new or held already).
	Valid int
	// New is how many of those the store did not hold yet.
	New int
	// Rejected are the hashes of orders refused on what the order hash
	// covers (the node's Validator, expiry, the store's own rules), which
	// every copy of the order would fail too.
	Rejected []common.Hash
	// Ignored are the hashes of orders the node's Validator did not judge
	// (ValidationIgnore, or it failed or timed out): nothing to remember.
	Ignored []common.Hash
	// Done is true when there is nothing more to ask this provider.
	Done bool
	// Next is the cursor of the next request, when not Done.
	Next common.Hash
}

// The verdicts of the pipeline, one per order, in check order.
const (
	verdictValid uint8 = iota
	verdictMalformed
	verdictOutOfRange
	verdictBadSignature
	verdictUnverifiable
	verdictFilterMismatch
)

// scratch holds Accept's per-page working memory, reused across pages.
type scratch struct {
	hashes     []common.Hash
	verdicts   []uint8
	candidates []*zeroex.SignedOrder
	index      []int // candidates[j] is page.Orders[index[j]]
	// unknown are the candidates whose signature must be checked;
	// unknown[k] is page.Orders[unknownIndex[k]].
	unknown      []*zeroex.SignedOrder
	unknownIndex []int
	errs         []error // errs[k] is unknown[k]'s signature check
	// heldBefore[j]: candidates[j] was in the store, with the same
	// signature, before the page was stored.
	heldBefore []bool
	// checked[j]: candidates[j] remembers a good signature.
	checked []bool
}

// minPerWorker keeps small pages on one goroutine, where starting workers
// would cost more than it saves.
const minPerWorker = 32

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (s *scratch) reset(n int) {
	if cap(s.hashes) < n {
		s.hashes = make([]common.Hash, n)
		s.verdicts = make([]uint8, n)
		s.candidates = make([]*zeroex.SignedOrder, 0, n)
		s.index = make([]int, 0, n)
	}
	s.hashes, s.verdicts = s.hashes[:n], s.verdicts[:n]
	s.heldBefore = s.heldBefore[:0]
	s.candidates, s.index = s.candidates[:0], s.index[:0]
}

// release drops the scratch's references to orders and returns it.
func (s *scratch) release() {
	clear(s.candidates[:cap(s.candidates)])
	clear(s.unknown[:cap(s.unknown)])
	clear(s.errs[:cap(s.errs)])
	scratchPool.Put(s)
}

// Accept runs a page through the requester pipeline (see the package
// documentation), adds the valid orders to the store, calls the
// WithOnAccepted callback, scores the provider, and moves the provider's
// cursor. It returns ErrCursorStalled or ErrEmptyIncompletePage when the
// sync cannot go on; dropped orders are not errors, only reported (see
// ReportMetricsTo).
func (p *Pager) Accept(ctx context.Context, page Page) (Accepted, error) {
	res, err := p.take(ctx, page, p.cursors.get(page.Provider), false)
	switch {
	case err != nil && err == ctx.Err():
		// The page will be asked for again on resuming: the cursor stays.
	case err != nil || res.Done:
		// Forgetting lets a sync that restarts from the beginning succeed.
		p.cursors.forget(page.Provider)
	default:
		p.cursors.set(page.Provider, res.Next)
	}
	return res, err
}

// take is Accept for a page that answers a request for the orders after
// after, without the cursor table. strict holds orders at or before after
// against the provider, for a caller that knows after is the cursor the
// provider was asked from. A cancelled ctx is returned as ctx.Err() itself.
func (p *Pager) take(ctx context.Context, page Page, after common.Hash, strict bool) (Accepted, error) {
	if len(page.Orders) == 0 {
		if !page.Complete {
			return Accepted{}, ErrEmptyIncompletePage
		}
		return Accepted{Done: true}, nil
	}

	s := scratchPool.Get().(*scratch)
	defer s.release()
	s.reset(len(page.Orders))
	last, disordered := p.checkOrders(page, after, strict, s)
	survivors := p.checkSignaturesAndFilter(s)
	if err := ctx.Err(); err != nil {
		// The page will be asked for again on resuming: count it then.
		return Accepted{}, err
	}
	p.count(page.Provider, s.verdicts, disordered)

	var res Accepted
	if len(survivors) > 0 {
		k, err := p.judgeAndStore(ctx, page.Provider, survivors, s.survivorsHeld())
		if err != nil {
			return res, err
		}
		res.Valid, res.New, res.Rejected, res.Ignored = len(k.orders), k.added, k.rejected, k.ignored
		if k.added > 0 {
			p.metrics().OrdersStored(page.Provider, k.added)
		}
		if p.cfg.onAccepted != nil && len(k.orders) > 0 {
			p.cfg.onAccepted(page.Provider, k.orders)
		}
	}

	if page.Complete {
		res.Done = true
		return res, nil
	}
	next, err := nextCursor(page, after, last)
	if err != nil {
		return res, err
	}
	res.Next = next
	return res, nil
}

// peekNext works out, from page alone, the cursor that Accept would move
// to for it: the orders are hashed and range-checked as Accept does, but no
// signature is checked and nothing is stored, counted, scored or
// remembered. Subprotocol.NextRequest uses it to ask for the next page
// before this one is verified (see ordersync.Pipeliner). done is true when
// Accept would report Done; err is Accept's ErrEmptyIncompletePage or
// ErrCursorStalled.
//
// Signatures and the filter never move the cursor (an in-range order with a
// bad signature still counts as scanned), so Accept's Next for the same
// page, called next for the same provider, is the same hash.
func (p *Pager) peekNext(page Page) (next common.Hash, done bool, err error) {
	return p.peek(page, p.cursors.get(page.Provider))
}

// peek is peekNext for a page that answers a request for the orders
// after after.
func (p *Pager) peek(page Page, after common.Hash) (next common.Hash, done bool, err error) {
	if len(page.Orders) == 0 {
		if !page.Complete {
			return common.Hash{}, false, ErrEmptyIncompletePage
		}
		return common.Hash{}, true, nil
	}
	if page.Complete {
		return common.Hash{}, true, nil
	}
	s := scratchPool.Get().(*scratch)
	defer s.release()
	s.reset(len(page.Orders))
	last, _ := p.checkOrders(page, after, false, s)
	next, err = nextCursor(page, after, last)
	return next, false, err
}

// nextCursor is the cursor of the request that follows an incomplete page
// whose highest in-range hash is last, or ErrCursorStalled when it would
// not move past after.
func nextCursor(page Page, after, last common.Hash) (common.Hash, error) {
	next := last
	if page.NextFromThrough && page.Through != (common.Hash{}) {
		next = page.Through
	}
	if bytes.Compare(next[:], after[:]) <= 0 {
		return common.Hash{}, fmt.Errorf("%w: %s answered a request after %s with a page ending at %s", ErrCursorStalled, page.Provider, after, next)
	}
	return next, nil
}

// checkOrders hashes the page's orders (on all cores) and checks each is
// well formed and in range. It fills s.verdicts and s.candidates (the
// orders still in the running) and returns the highest in-range hash (after
// when none is). disordered reports orders out of range for a reason only a
// faulty provider has: unsorted or repeated within the page, or past
// page.Through. Orders at or before after are out of range too, but honest
// when the requester restarted from the beginning without telling the
// Pager, so they are not held against the provider unless strict says
// after is the very cursor the provider was asked from (a lane's).
func (p *Pager) checkOrders(page Page, after common.Hash, strict bool, s *scratch) (last common.Hash, disordered bool) {
	hashOrders(page.Orders, s)
	prev := after
	bounded := page.Through != (common.Hash{})
	for i := range page.Orders {
		if s.verdicts[i] != verdictValid {
			continue
		}
		h := &s.hashes[i]
		if bytes.Compare(h[:], prev[:]) <= 0 {
			s.verdicts[i] = verdictOutOfRange
			disordered = disordered || strict || bytes.Compare(h[:], after[:]) > 0
			continue
		}
		if bounded && bytes.Compare(h[:], page.Through[:]) > 0 {
			s.verdicts[i] = verdictOutOfRange
			disordered = true
			continue
		}
		prev = *h
		s.candidates = append(s.candidates, page.Orders[i])
		s.index = append(s.index, i)
	}
	return prev, disordered
}

// hashOrders hashes orders on all cores into s.hashes, marking those that
// cannot be hashed malformed in s.verdicts and the others valid. Hashes are
// cached on the orders, so hashing a page a second time costs little.
func hashOrders(orders []*zeroex.SignedOrder, s *scratch) {
	parallel.For(len(orders), minPerWorker, func(i int) {
		o := orders[i]
		if o == nil {
			s.verdicts[i] = verdictMalformed
			return
		}
		h, err := o.ComputeOrderHash()
		if err != nil {
			s.verdicts[i] = verdictMalformed
			return
		}
		s.hashes[i], s.verdicts[i] = h, verdictValid
	})
}

// checkSignaturesAndFilter verifies the candidates' signatures (on all
// cores), then runs the requester's filter on those that pass. It records
// verdicts and returns the survivors in page order, in a new slice that the
// store and the WithOnAccepted callback may keep.
func (p *Pager) checkSignaturesAndFilter(s *scratch) []*zeroex.SignedOrder {
	if len(s.candidates) == 0 {
		return nil
	}
	p.verifySignatures(s)
	if p.filter != nil {
		parallel.For(len(s.candidates), minPerWorker, func(j int) {
			i := s.index[j]
			if s.verdicts[i] == verdictValid && !matches(p.filter, s.candidates[j]) {
				s.verdicts[i] = verdictFilterMismatch
			}
		})
	}
	n := 0
	for _, i := range s.index {
		if s.verdicts[i] == verdictValid {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	survivors := make([]*zeroex.SignedOrder, 0, n)
	for j, i := range s.index {
		if s.verdicts[i] == verdictValid {
			survivors = append(survivors, s.candidates[j])
		}
	}
	return survivors
}

// verifySignatures checks the candidates' signatures on all cores and
// records the verdicts. An order the store already holds with the very same
// signature was checked when it was stored, so it is not checked again.
//
// A candidate whose good signature the order remembers (Precheck checked
// it: the store did not hold it then) is not looked up: its check costs a
// comparison either way, so on a new sync Accept asks the store nothing
// that Precheck asked. Its heldBefore stays false, which is only ever
// conservative: keep looks up what AddOrders did not account for.
func (p *Pager) verifySignatures(s *scratch) {
	s.unknown, s.unknownIndex = s.unknown[:0], s.unknownIndex[:0]
	s.heldBefore = append(s.heldBefore[:0], make([]bool, len(s.candidates))...)
	getter, _ := p.store.(orderstore.Getter)
	checked := s.markChecked()
	held := p.heldMany(s, checked)
	for j, o := range s.candidates {
		var h *zeroex.SignedOrder
		switch {
		case checked[j]:
		case held != nil:
			h = held[j]
		case getter != nil:
			h, _ = getter.Get(s.hashes[s.index[j]])
		}
		if h != nil && bytes.Equal(h.Signature, o.Signature) {
			s.heldBefore[j] = true
			continue
		}
		s.unknown = append(s.unknown, o)
		s.unknownIndex = append(s.unknownIndex, s.index[j])
	}
	if cap(s.errs) < len(s.unknown) {
		s.errs = make([]error, len(s.unknown))
	}
	errs := s.errs[:len(s.unknown)]
	parallel.For(len(s.unknown), minPerWorker, func(k int) {
		errs[k] = s.unknown[k].VerifySignature()
	})
	for j, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, zeroex.ErrUnverifiableSignature):
			s.verdicts[s.unknownIndex[j]] = verdictUnverifiable
		default:
			s.verdicts[s.unknownIndex[j]] = verdictBadSignature
		}
	}
}

// markChecked fills s.checked: checked[j] says candidates[j] remembers a
// good signature (ordersig.Checked).
func (s *scratch) markChecked() []bool {
	s.checked = append(s.checked[:0], make([]bool, len(s.candidates))...)
	for j, o := range s.candidates {
		s.checked[j] = ordersig.Checked(o)
	}
	return s.checked
}

// heldMany looks up, in one call when the store can
// (orderstore.ManyGetter), the candidates not checked already: the orders
// it holds with their hashes, nil where none (and for the checked ones).
// It returns nil when the store cannot, and all nil on an error: then
// every candidate's signature is checked, which is always safe.
func (p *Pager) heldMany(s *scratch, checked []bool) []*zeroex.SignedOrder {
	many, ok := p.store.(orderstore.ManyGetter)
	if !ok {
		return nil
	}
	held := make([]*zeroex.SignedOrder, len(s.candidates))
	hashes := make([]common.Hash, 0, len(s.candidates))
	for j := range s.candidates {
		if !checked[j] {
			hashes = append(hashes, s.hashes[s.index[j]])
		}
	}
	if len(hashes) == 0 {
		return held
	}
	got, err := many.GetMany(context.Background(), hashes)
	if err != nil || len(got) != len(hashes) {
		return held
	}
	k := 0
	for j := range s.candidates {
		if !checked[j] {
			held[j] = got[k]
			k++
		}
	}
	return held
}

// rejectReasons names the verdicts other than valid for the MetricsTracer.
var rejectReasons = [...]ordersync.RejectReason{
	verdictMalformed:      ordersync.RejectMalformed,
	verdictOutOfRange:     ordersync.RejectOutOfRange,
	verdictBadSignature:   ordersync.RejectBadSignature,
	verdictUnverifiable:   ordersync.RejectUnverifiableSignature,
	verdictFilterMismatch: ordersync.RejectFilterMismatch,
}

// count reports a page's rejected orders, by reason, and moves the
// provider's score. (The Service counts the orders received and accepted
// from the page itself.)
func (p *Pager) count(provider peer.ID, verdicts []uint8, disordered bool) {
	var n [verdictFilterMismatch + 1]int
	for _, v := range verdicts {
		n[v]++
	}
	tracer := p.metrics()
	for v := verdictMalformed; v <= verdictFilterMismatch; v++ {
		if n[v] > 0 {
			tracer.OrdersRejected(provider, rejectReasons[v], n[v])
		}
	}

	if n[verdictFilterMismatch] > 0 {
		p.cfg.scorer.SetPeerScore(provider, peerscore.OrderDoesNotMatchFilter, peerscore.OrderDoesNotMatchFilterScore)
	}
	if n[verdictBadSignature] > 0 {
		p.cfg.scorer.AddPeerScore(provider, peerscore.InvalidOrderSignature, peerscore.InvalidOrderSignatureDelta)
	}
	if n[verdictMalformed] > 0 || disordered {
		p.cfg.scorer.AddPeerScore(provider, peerscore.InvalidOrder, peerscore.InvalidOrderDelta)
	}
}

// survivorsHeld says, for each survivor (the valid candidates, in order),
// whether the store held it before the page was stored.
func (s *scratch) survivorsHeld() []bool {
	if len(s.heldBefore) != len(s.candidates) {
		return nil
	}
	var held []bool
	for j, i := range s.index {
		if s.verdicts[i] == verdictValid {
			held = append(held, s.heldBefore[j])
		}
	}
	return held
}
