package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/zeroex"
)

// A list replaces symbols when the difference is a large share of the
// provider's set: a difference costs about 1.4 symbols of 55 bytes of
// base64 (and both sides the CPU of coding and peeling them), a listed
// hash 43 bytes. Measured in netsim's defaults, where every node reconciles
// differences of thousands of orders with 3 peers, the symbols were about
// a fifth of the bytes of the orders a node lacked, and a quarter of its
// CPU went to coding and peeling them.

// minListSymbols is how many symbols a requester has before it trusts the
// estimate of the difference enough to ask for a list: from the dozen of a
// first answer, counts of a large difference wrap modulo 256 and the
// estimate can be anything; from 100 it is within about a seventh.
const minListSymbols = 100

// firstAnswerMost is the most symbols a requester asks for in a sync's
// first answer: enough to estimate a large difference (minListSymbols)
// before it chooses between more symbols and a list. The provider's own
// choice, 1.5 per difference its count shows, is about what a difference
// costs in symbols, and was thrown away when a list followed: in netsim's
// defaults about 3 % of the bytes of the orders a node lacked. A
// smaller difference gets the provider's choice, as before. Later sketch
// requests carry it too: when their snapshot is gone, the provider starts
// over from a new one with as many symbols as they asked for next, which
// a restarted sync then decoded symbol by symbol even where a list paid.
const firstAnswerMost = 256

// maxListed is the largest provider set a requester asks to list: a
// difference too large to decode (MaxSymbols) in a larger set pages.
const maxListed = MaxSymbols

// What a sync asks for after its first symbols: more symbols, the
// provider's whole list, or its list filtered by the requester's set.
const (
	listNone = iota
	listWhole
	listFiltered
)

// listPlan chooses, by their bytes, between the symbols still to come for
// a difference estimated at estimate (having received some), the
// provider's list of its total hashes, and that list filtered by a held
// filter of the requester's held hashes: the filter (sent with each list
// request) and the hashes the provider holds and the requester lacks,
// half the sum of the difference and the net, total less held.
//
// With a current provider (one whose sketch answers show it takes held
// sets, and whose lists give positions) the filter is a held set, and
// what the requester lacks is fetched by position after a list but by
// hash after symbols.
func listPlan(received, estimate, net, held, total int, current bool) int {
	if received < minListSymbols || total > maxListed {
		return listNone
	}
	symbols := (estimate*14/10 + 8 - received) * symbolWireBytes
	whole := total * hashWireBytes
	lacked := min(max((estimate+net)/2, 0), total)
	bitsPerHeld := heldFilterBitsPerItem
	if current {
		symbols += lacked * (hashWireBytes - positionWireBytes)
		bitsPerHeld = heldSetBits + 2
	}
	filtered := math.MaxInt
	if held > 0 && held <= MaxSymbols {
		filterBytes := (held*bitsPerHeld/8*4 + 2) / 3
		filtered = filterBytes*(lacked/MaxListPerResponse+1) + lacked*hashWireBytes
	}
	switch {
	case filtered < min(symbols, whole):
		return listFiltered
	case whole < symbols:
		return listWhole
	}
	return listNone
}

// startFilteredList reads the requester's set for the list's merge now,
// and makes the held filter of it that the list requests carry. Hashes
// rejected from the provider's own copies stay out of the filter: the
// provider lists them if it holds them, which shows the two are not in
// sync.
func (s *Subprotocol) startFilteredList(ctx context.Context, provider peer.ID, st *syncState) error {
	ls, err := s.newListState(ctx, provider)
	if err != nil {
		return err
	}
	st.list, st.held = ls, newHeldWire(ls.local, ls.own, st.heldSets)
	return nil
}

// serveList answers a sketch request that asked for a list: the hashes of
// the snapshot it names after its cursor, or of a new snapshot from the
// beginning when that one is gone or can no longer be read as it was. It
// returns nil when the set cannot be listed within the scan budget: the
// request is then answered with symbols, as an old provider does.
func (s *Subprotocol) serveList(ctx context.Context, requester peer.ID, md *RequestMetadata) (*ordersync.Response, error) {
	after := md.After
	sn := s.snapshots.byID(md.Snapshot)
	if sn == nil {
		var err error
		if sn, err = s.snapshots.current(ctx, md.OrderFilter, false); err != nil {
			return nil, nil
		}
		after = nil
	}
	enc, err := sn.encoder(ctx, s)
	if err != nil {
		return nil, err
	}
	if enc == nil {
		// An indexed snapshot whose store moved on: a scanned one lists
		// what the store holds now.
		if sn, err = s.snapshots.current(ctx, md.OrderFilter, true); err != nil {
			return nil, nil
		}
		if enc, err = sn.encoder(ctx, s); err != nil || enc == nil {
			return nil, err
		}
		after = nil
	}
	start := 0
	if len(after) == 32 {
		start = sort.Search(enc.Len(), func(i int) bool {
			x := enc.Item(i)
			return bytes.Compare(x[:], after) > 0
		})
	}
	var held interface{ holds(*riblt.Item) bool }
	switch {
	case len(md.HeldSet) > 0:
		// Decoding the largest set took 3-6 ms of CPU on this 2-core
		// machine under load: charged a byte a value, eight such sets
		// a second at the default rate.
		if err := s.budgets.charge(ctx, requester, md.HeldSetCount); err != nil {
			return nil, err
		}
		set, err := decodeHeldSet(md.HeldSet, md.HeldSetCount, md.HeldSetBits, md.HeldSetSalt)
		if err != nil {
			return nil, fmt.Errorf("reconcile: list request: %w", err)
		}
		held = set
	case len(md.HeldFilter) > 0:
		held = &heldFilter{bits: md.HeldFilter, positions: md.HeldFilterPositions, salt: md.HeldFilterSalt}
	}
	// The hashes to list, up to an answer's worth; scanned records how
	// far that went. Without a filter every hash is listed.
	listed := make([]int, 0, min(enc.Len()-start, MaxListPerResponse))
	scanned := start
	for ; scanned < enc.Len() && len(listed) < MaxListPerResponse; scanned++ {
		x := enc.Item(scanned)
		if held == nil || !held.holds(&x) {
			listed = append(listed, scanned)
		}
	}
	if held != nil {
		if err := s.budgets.charge(ctx, requester, (scanned-start-len(listed))*heldScanBytes); err != nil {
			return nil, err
		}
	}
	n, err := s.budgets.takeUnits(ctx, requester, len(listed), hashWireBytes)
	if err != nil {
		return nil, err
	}
	end := scanned == enc.Len()
	if n < len(listed) {
		listed, end = listed[:n], false
	}
	hashes := make([]byte, 0, 32*len(listed))
	for _, i := range listed {
		x := enc.Item(i)
		hashes = append(hashes, x[:]...)
	}
	return &ordersync.Response{Orders: []*zeroex.SignedOrder{}, Metadata: &ResponseMetadata{Op: OpList,
		Snapshot: sn.id, Total: sn.count, Hashes: hashes, End: end, Positions: appendPositions(nil, listed)}}, nil
}

// listState is a requester's merge of a provider's list with its own set.
type listState struct {
	local  []common.Hash // the requester's set, ascending
	pos    int           // local[:pos] are below the last hash listed
	listed int
	last   common.Hash
	own    map[common.Hash]bool // hashes rejected from the provider's own copies
	// ownListed is set once the provider listed one of own: the two are
	// not in sync (see holdsOwnRejected).
	ownListed  bool
	remoteOnly []common.Hash
	// at are the positions of remoteOnly in the snapshot, while every
	// answer gave them ascending (see positions.go); nil after one that
	// did not.
	at     []int
	lastAt int // the last position listed
	// answered is set once a list answer was merged.
	answered bool
}

// newListState reads the requester's set for a merge: its orders that
// match its filter, and the rejected hashes that count as held with
// provider, ascending.
func (s *Subprotocol) newListState(ctx context.Context, provider peer.ID) (*listState, error) {
	items, err := s.scanOwn(ctx)
	if err != nil {
		return nil, err
	}
	all, own := s.rejectedNotHeld(provider)
	ls := &listState{local: make([]common.Hash, 0, len(items)+len(all)+len(own))}
	for _, x := range items {
		ls.local = append(ls.local, common.Hash(x))
	}
	if len(all)+len(own) > 0 {
		ls.local = append(append(ls.local, all...), own...)
		slices.SortFunc(ls.local, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
		ls.local = slices.Compact(ls.local)
		ls.own = make(map[common.Hash]bool, len(own))
		for _, h := range own {
			ls.own[h] = true
		}
	}
	return ls, nil
}

// merge takes the next listed hashes, which must be ascending and above
// those listed before, and their positions, if the answer gave them.
func (ls *listState) merge(hashes []byte, positions []int) error {
	if len(positions) != len(hashes)/32 || (ls.listed > 0 && ls.at == nil) ||
		(len(positions) > 0 && ls.listed > 0 && positions[0] <= ls.lastAt) {
		ls.at = nil // fetches name hashes
	} else if ls.at == nil {
		ls.at = []int{}
	}
	for i := 0; i+32 <= len(hashes); i += 32 {
		h := common.Hash(hashes[i : i+32])
		if ls.listed > 0 && bytes.Compare(h[:], ls.last[:]) <= 0 {
			return fmt.Errorf("%w: listed hashes not ascending", ErrUnexpected)
		}
		ls.last = h
		ls.listed++
		for ls.pos < len(ls.local) && bytes.Compare(ls.local[ls.pos][:], h[:]) < 0 {
			ls.pos++
		}
		if ls.pos < len(ls.local) && ls.local[ls.pos] == h {
			ls.pos++
			ls.ownListed = ls.ownListed || ls.own[h]
			continue
		}
		ls.remoteOnly = append(ls.remoteOnly, h)
		if ls.at != nil {
			ls.at = append(ls.at, positions[i/32])
		}
	}
	if ls.at != nil && len(positions) > 0 {
		ls.lastAt = positions[len(positions)-1]
	}
	return nil
}

// askList is the request for the provider's list, after what was listed
// so far. Snapshot, From and Count ask for the symbols that come next, for
// a provider that does not know lists.
func (s *Subprotocol) askList(st *syncState, count int) *ordersync.Request {
	md := &RequestMetadata{Op: OpSketch, Snapshot: st.snapshot, List: true}
	if st.held != nil {
		st.held.put(md)
	}
	if st.dec != nil {
		md.From, md.Count = st.dec.Received(), count
	}
	if st.list != nil && st.list.listed > 0 {
		md.After = st.list.last[:]
	}
	return s.request(md)
}

// takeList merges a list answer into the sync and asks for the rest of the
// list, or starts fetching what it showed the requester lacks.
func (s *Subprotocol) takeList(ctx context.Context, provider peer.ID, md *ResponseMetadata, st *syncState) (*ordersync.Request, error) {
	if !st.listing {
		return nil, fmt.Errorf("%w: a list that was not asked for", ErrUnexpected)
	}
	st.rounds++
	first := st.list == nil || !st.list.answered
	if first || md.Snapshot != st.snapshot {
		// The first list answer, or one from a new snapshot, which lists
		// from the beginning. A filtered list read the requester's set
		// when it asked; a restart reads it again (the filter stays: it
		// only leaves out hashes the requester held).
		if !first {
			st.restarts++
		}
		if st.list == nil || !first {
			ls, err := s.newListState(ctx, provider)
			if err != nil {
				return nil, err
			}
			st.list = ls
		}
		st.snapshot, st.total = md.Snapshot, md.Total
		st.dec, st.local, st.received = nil, nil, nil // symbols are no longer needed
	}
	ls := st.list
	ls.answered = true
	// parseResponseMetadata checked and decoded the positions.
	if err := ls.merge(md.Hashes, md.listed); err != nil {
		return nil, err
	}
	s.metrics().ReconciliationRound(provider, ordersync.RoleRequester, Name, len(ls.remoteOnly))
	if ls.listed > st.total {
		return nil, fmt.Errorf("%w: %d hashes listed of a snapshot of %d", ErrUnexpected, ls.listed, st.total)
	}
	if len(ls.remoteOnly) > s.cfg.maxDifferences {
		// As with symbols: more than a sync fetches, which an honest
		// provider with a much larger book can list too.
		return s.pageInstead(st), nil
	}
	if !md.End {
		// At most maxListed hashes, listed up to three times (two
		// restarts), however the provider pages them.
		st.listRounds++
		if len(md.Hashes) == 0 || st.listRounds > 3*(maxListed/MaxListPerResponse+1) || st.restarts > 2 {
			return s.pageInstead(st), nil
		}
		return s.askList(st, 0), nil
	}
	// No digest check: a list cannot cancel as forged symbols can. What
	// it claims the provider holds is fetched, within the bounds on
	// undelivered orders, and what it leaves out it withholds, as a
	// paging provider can.
	remoteOnly, inSyncIfHeld := ls.remoteOnly, !ls.ownListed
	var at map[common.Hash]int
	if ls.at != nil {
		at = make(map[common.Hash]int, len(remoteOnly))
		for i, h := range remoteOnly {
			at[h] = ls.at[i]
		}
	}
	st.list, st.held = nil, nil
	return s.startFetch(ctx, provider, st, remoteOnly, at, inSyncIfHeld)
}
