package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/zeroex"
)

// ErrUndelivered is HandleOrderSyncResponse's error when a provider has
// left undelivered more of the orders it claimed than an honest provider,
// whose orders come and go, would.
var ErrUndelivered = errors.New("reconcile: provider does not deliver the orders it claims")

// ErrUnexpected is HandleOrderSyncResponse's error for a response that
// does not answer the request the requester made.
var ErrUnexpected = errors.New("reconcile: response does not answer the request")

// The phases of a sync, as a requester.
const (
	phaseSketch = iota
	phaseFetch
	phasePage
)

// syncState is the requester's state of its sync with one provider.
type syncState struct {
	phase    int
	snapshot uint64
	total    int
	remote   riblt.Digest // the provider's digest of its snapshot
	local    *localSet
	dec      *riblt.Decoder
	rounds   int
	restarts int

	want  []common.Hash // still to fetch, ascending
	asked []common.Hash // the fetch under way, ascending
	// at are the positions in snapshot of the hashes a list showed the
	// requester lacks, when the provider gave them: fetches name those
	// (positions.go). askedAt is set when the fetch under way did.
	at          map[common.Hash]int
	askedAt     bool
	askedTotal  int
	undelivered int
	// busy are wanted hashes that other syncs were fetching, ascending;
	// awaits counts the waits for them, and unclaimed is set once the
	// sync fetches without claiming (see maxAwaits).
	busy      []common.Hash
	awaits    int
	unclaimed bool
	// diff is what the decoded difference showed the provider holds and
	// the requester lacked; inSyncIfHeld is true when holding all of it
	// makes the two in sync (no copy of the provider's was rejected).
	diff         []common.Hash
	inSyncIfHeld bool

	inSync bool
	// received are the provider's symbols so far, and rescanned is true
	// once the local set was read again by a scan (see rescan).
	received  []riblt.Symbol
	rescanned bool
	// shared is true once the sync has paged a share of the hash space
	// (shares.go) and reconciles after it.
	shared bool
	// listing is true once the sync asked for the provider's list
	// (list.go), which list merges page by page; listRounds counts them.
	listing    bool
	listAsked  bool
	list       *listState
	listRounds int
	// held is the filter of the requester's set that its list requests
	// carry (heldfilter.go), nil for a whole list.
	held *heldWire
	// heldSets is set when the provider's sketch answers showed it takes
	// held sets (heldset.go).
	heldSets bool
}

// syncTable holds the requester's syncs, a bounded number of them.
type syncTable struct {
	mu     sync.Mutex
	byPeer map[peer.ID]*syncState
}

// maxSyncs bounds the syncs a requester remembers; one more forgets an
// arbitrary other, whose next response then fails and restarts its sync.
const maxSyncs = 256

func (t *syncTable) get(p peer.ID, create bool) *syncState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.byPeer[p]
	if st == nil && create {
		if len(t.byPeer) >= maxSyncs {
			for old := range t.byPeer {
				delete(t.byPeer, old)
				break
			}
		}
		st = &syncState{}
		t.byPeer[p] = st
	}
	return st
}

func (t *syncTable) forget(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byPeer, p)
}

// HandleOrderSyncResponse takes in a response as a requester: it decodes
// symbols, validates and stores fetched or paged orders (package
// pagination), and returns the next request, or nil when the sync is done.
func (s *Subprotocol) HandleOrderSyncResponse(ctx context.Context, res *ordersync.Response) (*ordersync.Request, int, error) {
	if res == nil {
		return nil, 0, fmt.Errorf("reconcile: nil response")
	}
	md, err := meta.As("reconcile: response", res.Metadata, parseResponseMetadata)
	if err != nil {
		return nil, 0, err
	}
	st := s.syncs.get(res.ProviderID, true)
	switch md.Op {
	case OpPage:
		if st.phase == phaseFetch {
			return nil, 0, fmt.Errorf("%w: a page while fetching", ErrUnexpected)
		}
		st.phase = phasePage
		return s.takePage(ctx, res, md)
	case OpFetch:
		if st.phase != phaseFetch {
			return nil, 0, fmt.Errorf("%w: fetched orders that were not asked for", ErrUnexpected)
		}
		if md.Gone {
			return s.takeGone(res, st)
		}
		return s.takeFetched(ctx, res, st)
	case OpList:
		if st.phase != phaseSketch {
			return nil, 0, fmt.Errorf("%w: a list after the sketch phase", ErrUnexpected)
		}
		if len(res.Orders) > 0 {
			return nil, 0, fmt.Errorf("%w: orders with a list", ErrUnexpected)
		}
		next, err := s.takeList(ctx, res.ProviderID, md, st)
		return next, 0, err
	default:
		if st.phase != phaseSketch {
			return nil, 0, fmt.Errorf("%w: symbols after the sketch phase", ErrUnexpected)
		}
		if len(res.Orders) > 0 {
			return nil, 0, fmt.Errorf("%w: orders with symbols", ErrUnexpected)
		}
		if md.Same {
			next, err := s.takeSame(res.ProviderID, md, st)
			return next, 0, err
		}
		// Symbols answering a list request: a provider that does not
		// know lists; the sync decodes them.
		st.listing, st.list, st.held = false, nil, nil
		next, err := s.takeSketch(ctx, res.ProviderID, md, st)
		return next, 0, err
	}
}

// takeSketch decodes a response's symbols and decides what to ask next.
func (s *Subprotocol) takeSketch(ctx context.Context, provider peer.ID, md *ResponseMetadata, st *syncState) (*ordersync.Request, error) {
	st.rounds++
	if st.dec == nil || md.Snapshot != st.snapshot {
		if md.From != 0 {
			return nil, fmt.Errorf("%w: symbols from %d of snapshot %d, which was not started", ErrUnexpected, md.From, md.Snapshot)
		}
		if st.dec != nil {
			st.restarts++
		}
		if st.local == nil {
			local, err := s.newLocalSet(ctx, provider, false)
			if err != nil {
				return nil, err
			}
			st.local = local
		}
		remote, err := riblt.ParseDigest(md.Digest, int64(md.Total))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnexpected, err)
		}
		st.snapshot, st.total, st.remote, st.heldSets = md.Snapshot, md.Total, remote, md.HeldSets
		st.dec = riblt.NewDecoder(st.local.source, s.cfg.maxDifferences)
		// The symbols of the snapshot before belong to another set: kept,
		// a rescan decoded them with the new ones as one set, found an
		// item twice and failed the sync, scoring an honest provider.
		st.received = nil
	} else if md.From != st.dec.Received() {
		return nil, fmt.Errorf("%w: symbols from %d, want %d", ErrUnexpected, md.From, st.dec.Received())
	}
	if st.total == 0 {
		return nil, nil // the provider has nothing: ErrNoOrdersFromPeer
	}
	syms, err := riblt.ParseSymbols(md.Symbols)
	if err != nil {
		return nil, err
	}
	st.received = append(st.received, syms...)
	err = st.dec.Add(syms)
	if err != nil && errors.Is(err, riblt.ErrLocalMoved) && !st.rescanned {
		err = s.rescan(ctx, provider, st)
	}
	s.metrics().ReconciliationRound(provider, ordersync.RoleRequester, Name, st.dec.Differences())
	if err != nil {
		if errors.Is(err, riblt.ErrInconsistent) {
			s.cfg.scorer.AddPeerScore(provider, peerscore.InvalidSketch, peerscore.InvalidSketchDelta)
			return nil, err
		}
		return s.pageInstead(st), nil // too many differences, or the local set moved
	}
	if !st.dec.Done() {
		if st.rounds >= s.cfg.maxRounds || st.restarts > 2 || st.dec.Received() >= MaxSymbols {
			return s.pageInstead(st), nil
		}
		received := st.dec.Received()
		net := st.total - int(st.local.digest.Count())
		estimate := st.dec.EstimateDifferences(net)
		count := nextSymbols(received, estimate)
		if !st.listAsked {
			switch listPlan(received, estimate, net, int(st.local.digest.Count()), st.total, st.heldSets) {
			case listFiltered:
				if err := s.startFilteredList(ctx, provider, st); err != nil {
					return nil, err
				}
				fallthrough
			case listWhole:
				st.listing, st.listAsked = true, true
				return s.askList(st, count), nil
			}
		}
		return s.request(&RequestMetadata{Op: OpSketch, Snapshot: st.snapshot, From: received, Count: count, Most: firstAnswerMost}), nil
	}
	return s.decoded(ctx, provider, st)
}

// nextSymbols is how many more symbols a sync asks for, having received
// some and estimated the difference they code: enough to decode that
// difference (about 1.4 symbols each, and a few more), at least a
// sixteenth more, and at most eight times as many as received, since an
// estimate from few symbols can be far out (and a provider's forged
// counts make it anything). A fixed growth of half as many again overshot
// what decoding took by a fifth on average, and by up to a half, in about
// twice the round trips.
func nextSymbols(received, estimate int) int {
	target := estimate*14/10 + 8
	return min(max(target-received, 16, received/16), 8*received+16)
}

// decoded checks a finished decoding against the provider's digest and
// starts fetching what is missing.
func (s *Subprotocol) decoded(ctx context.Context, provider peer.ID, st *syncState) (*ordersync.Request, error) {
	remoteOnly, localOnly := st.dec.RemoteOnly(), st.dec.LocalOnly()
	// The provider's set is the local one, less what only the local one
	// holds, plus what only the provider does.
	d := st.local.digest
	for i := range localOnly {
		d.RemoveItem(&localOnly[i])
	}
	for i := range remoteOnly {
		d.AddItem(&remoteOnly[i])
	}
	if d != st.remote {
		// Symbols that cancel where the sets differ: a forgery, or a
		// faulty provider. Paging cannot be fooled.
		s.cfg.scorer.AddPeerScore(provider, peerscore.InvalidSketch, peerscore.InvalidSketchDelta)
		return s.pageInstead(st), nil
	}
	// In sync once the requester holds what it lacked, whoever
	// delivered it.
	inSyncIfHeld := !holdsOwnRejected(st.local, localOnly)
	st.dec, st.local, st.received = nil, nil, nil // free them
	hashes := make([]common.Hash, len(remoteOnly))
	for i := range remoteOnly {
		hashes[i] = common.Hash(remoteOnly[i])
	}
	slices.SortFunc(hashes, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
	return s.startFetch(ctx, provider, st, hashes, nil, inSyncIfHeld)
}

// startFetch starts fetching the hashes, ascending, that a sync found the
// provider holds and the requester lacks (by symbols or a list), less
// those stored since; at are their positions in the snapshot, or nil.
func (s *Subprotocol) startFetch(ctx context.Context, provider peer.ID, st *syncState, remoteOnly []common.Hash, at map[common.Hash]int, inSyncIfHeld bool) (*ordersync.Request, error) {
	st.at = at
	getter, _ := s.store.(orderstore.Getter)
	want := make([]common.Hash, 0, len(remoteOnly))
	for _, h := range remoteOnly {
		if getter != nil {
			if _, held := getter.Get(h); held {
				continue // stored since the sync started
			}
		}
		want = append(want, h)
	}
	st.inSyncIfHeld = inSyncIfHeld
	if len(want) == 0 {
		st.inSync = st.inSyncIfHeld
		return nil, nil
	}
	st.phase, st.want, st.diff = phaseFetch, want, slices.Clone(want)
	return s.nextFetch(ctx, provider, st)
}

// rescan reads the local set again, by one scan of the store, and decodes
// the symbols received so far against it. The index gives the local
// set's first symbols as the store stood when the sync started, and a scan
// the later ones; when other syncs stored orders in between, the two do
// not belong to one set (riblt.ErrLocalMoved). Paging instead cost the
// provider's whole book; a scan costs a read of the requester's own
// store, and the symbols are not asked for again.
func (s *Subprotocol) rescan(ctx context.Context, provider peer.ID, st *syncState) error {
	st.rescanned = true
	local, err := s.newLocalSet(ctx, provider, true)
	if err != nil {
		return err
	}
	st.local = local
	st.dec = riblt.NewDecoder(local.source, s.cfg.maxDifferences)
	return st.dec.Add(st.received)
}

// holdsOwnRejected reports whether the provider's set, as decoded, holds
// a hash rejected from that provider's own copies: the requester counted
// it as held, but does not hold it, so the two are not in sync.
func holdsOwnRejected(local *localSet, localOnly []riblt.Item) bool {
	if len(local.ownRejected) == 0 {
		return false
	}
	only := make(map[common.Hash]bool, len(localOnly))
	for _, x := range localOnly {
		only[common.Hash(x)] = true
	}
	for _, h := range local.ownRejected {
		if !only[h] {
			return true
		}
	}
	return false
}

// pageInstead gives up reconciling and pages from the beginning.
func (s *Subprotocol) pageInstead(st *syncState) *ordersync.Request {
	st.phase, st.dec, st.local, st.received = phasePage, nil, nil, nil
	st.listing, st.list, st.held = false, nil, nil
	return s.request(&RequestMetadata{Op: OpPage})
}

// takeGone takes a provider's word that the snapshot a fetch named
// positions of is gone: the sync asks for the same hashes by hash, and
// names hashes from then on.
func (s *Subprotocol) takeGone(res *ordersync.Response, st *syncState) (*ordersync.Request, int, error) {
	if !st.askedAt || len(res.Orders) > 0 {
		return nil, 0, fmt.Errorf("%w: a snapshot gone that no fetch named", ErrUnexpected)
	}
	st.at = nil
	return s.askFetch(st), 0, nil
}

// takeFetched validates and stores fetched orders.
func (s *Subprotocol) takeFetched(ctx context.Context, res *ordersync.Response, st *syncState) (*ordersync.Request, int, error) {
	asked := st.asked
	kept := make([]*zeroex.SignedOrder, 0, len(res.Orders))
	delivered := make(map[common.Hash]bool, len(res.Orders))
	unasked := false
	for _, o := range res.Orders {
		h, err := o.ComputeOrderHash()
		if _, found := slices.BinarySearchFunc(asked, h, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) }); err != nil || !found || delivered[h] {
			unasked = true
			continue
		}
		delivered[h] = true
		kept = append(kept, o)
	}
	if unasked {
		s.cfg.scorer.AddPeerScore(res.ProviderID, peerscore.InvalidOrder, peerscore.InvalidOrderDelta)
	}
	acc, err := s.pager.Accept(ctx, paging.Page{Provider: res.ProviderID, Orders: kept, Complete: true})
	// The orders are stored, or will not be: other syncs waiting for
	// them check the store and fetch what is still missing.
	s.releaseAsked(res.ProviderID, st)
	if err != nil {
		return nil, acc.Valid, err
	}
	s.noteRejected(res.ProviderID, kept, acc.Rejected, acc.Ignored)

	missing := len(asked) - len(delivered)
	st.undelivered += missing
	if missing > 0 && 2*missing > len(asked) && len(asked) >= 8 {
		s.cfg.scorer.AddPeerScore(res.ProviderID, peerscore.UndeliveredOrders, peerscore.UndeliveredOrdersDelta)
	}
	if st.undelivered > 16+st.askedTotal/4 {
		return nil, acc.Valid, fmt.Errorf("%w: %d of %d orders asked for never came", ErrUndelivered, st.undelivered, st.askedTotal)
	}
	st.asked = nil
	next, err := s.nextFetch(ctx, res.ProviderID, st)
	return next, acc.Valid, err
}

// noteRejected remembers the orders fetched from provider that the
// pipeline did not store: their hashes count as held in the next rounds.
// An order that fails the requester's filter fails it in every copy (the
// filter reads what the order hash covers), so it counts as held with
// every provider. Any other rejection (a broken signature, an order out of
// order) is of this copy, which the provider may have spoiled on purpose:
// it counts as held with that provider only, so that the order is still
// fetched from the others.
//
// judged are the hashes of orders refused on what the order hash covers
// (the node's Validator, expiry, the store's own rules): remembered for
// every provider, whatever the store can tell. ignored are those the
// Validator did not judge: not remembered at all, so that they are
// fetched again once it can.
func (s *Subprotocol) noteRejected(provider peer.ID, orders []*zeroex.SignedOrder, judged, ignored []common.Hash) {
	for _, h := range judged {
		s.rejected.add("", h)
	}
	getter, ok := s.store.(orderstore.Getter)
	if !ok {
		return
	}
	known := make(map[common.Hash]bool, len(judged)+len(ignored))
	for _, h := range judged {
		known[h] = true
	}
	for _, h := range ignored {
		known[h] = true
	}
	for _, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			continue
		}
		if _, held := getter.Get(h); held || known[h] {
			continue
		}
		if !wanted(o, s.filter, nil) {
			s.rejected.add("", h)
		} else {
			s.rejected.add(provider, h)
		}
	}
}

// takePage validates and stores a page of orders.
func (s *Subprotocol) takePage(ctx context.Context, res *ordersync.Response, md *ResponseMetadata) (*ordersync.Request, int, error) {
	page := paging.Page{Provider: res.ProviderID, Orders: res.Orders, Complete: res.Complete}
	copy(page.Through[:], md.Next)
	acc, err := s.pager.Accept(ctx, page)
	// A first sync pages: what the node refused on the order's content
	// must not be fetched again in the next round.
	s.noteRejected(res.ProviderID, nil, acc.Rejected, nil)
	if err != nil || acc.Done {
		return nil, acc.Valid, err
	}
	return s.request(&RequestMetadata{Op: OpPage, After: acc.Next[:]}), acc.Valid, nil
}

// request is a request with the requester's filter.
func (s *Subprotocol) request(md *RequestMetadata) *ordersync.Request {
	md.OrderFilter = s.filter
	return &ordersync.Request{Metadata: md}
}
