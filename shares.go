package ordersync

import (
	"bytes"
	"context"
	"math/big"
	"sort"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A first sync into an empty store from several providers at once would
// page each provider's whole book: k copies of every order they share.
// Order hashes are the cursor of every paging subprotocol, so the hash
// space splits. Each provider that pages a first sync takes a share of it,
// as ranges that its lanes page side by side; one that comes later takes
// the upper half of what is left of each range of the largest share; one
// that has paged its share takes half of the widest range left to another,
// so that the work follows the providers that deliver, and a provider
// that stalls loses its share range by range. What the shares miss (a
// provider that withholds orders, sets that differ) the reconciliation
// with each provider that follows a first sync finds.

// HashRange is a range of order hashes that one lane of a first sync pages:
// the hashes after After and before End; with Bounded false, to the end of
// the space. (It reads as paging lanes do: After is the cursor of the
// range's next page request.)
type HashRange struct {
	After   common.Hash
	End     common.Hash
	Bounded bool
}

// hashSpaceSize is 2^256, the number of order hashes.
var hashSpaceSize = new(big.Int).Lsh(big.NewInt(1), 256)

// Width is how many hashes r holds.
func (r HashRange) Width() *big.Int {
	end := hashSpaceSize
	if r.Bounded {
		end = r.End.Big()
	}
	w := new(big.Int).Sub(end, r.After.Big())
	w.Sub(w, big.NewInt(1))
	if w.Sign() < 0 {
		w.SetInt64(0)
	}
	return w
}

// upperHalf splits r in two: it returns the lower half, which r's holder
// keeps, and the upper one.
func (r HashRange) upperHalf() (lower, upper HashRange) {
	half := r.Width()
	half.Rsh(half, 1)
	mid := new(big.Int).Add(r.After.Big(), half) // the last hash kept
	lower = HashRange{After: r.After, End: common.BigToHash(new(big.Int).Add(mid, big.NewInt(1))), Bounded: true}
	upper = HashRange{After: common.BigToHash(mid), End: r.End, Bounded: r.Bounded}
	return lower, upper
}

// shareBoard holds the ranges of the first syncs paging now, by provider
// and lane. Its zero value is ready to use.
type shareBoard struct {
	mu     sync.Mutex
	shares map[peer.ID][]HashRange
	// changed is closed, and replaced, whenever a share is given up.
	changed chan struct{}
}

// width is how many hashes ranges have left.
func width(ranges []HashRange) *big.Int {
	w := new(big.Int)
	for _, r := range ranges {
		w.Add(w, r.Width())
	}
	return w
}

// TakeShare gives provider's first sync a share of the hash space to page,
// and returns it as ranges, one per lane, ascending: the whole space when
// no other provider holds a share, else the upper half of what is left of
// each of the (at most maxRanges) widest ranges of the largest share,
// which its holder gives up. split, called before any other provider can
// take part of it, divides the share into the lanes the sync pages it
// with (it may return the ranges as they are); what it returns is the
// share. A provider that holds a share already gets it back as it is now.
// A nil Validation gives the whole space, split.
func (v *Validation) TakeShare(provider peer.ID, maxRanges int, split func([]HashRange) []HashRange) []HashRange {
	whole := []HashRange{{}}
	if v == nil {
		return split(whole)
	}
	b := &v.shares
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.shares[provider]; ok {
		return append([]HashRange(nil), s...)
	}
	if b.shares == nil {
		b.shares = make(map[peer.ID][]HashRange)
	}
	var largest peer.ID
	var most *big.Int
	for p, s := range b.shares {
		if w := width(s); most == nil || w.Cmp(most) > 0 {
			largest, most = p, w
		}
	}
	mine := whole
	if most != nil {
		mine = b.halve(largest, maxRanges)
	}
	mine = split(mine)
	b.shares[provider] = append([]HashRange(nil), mine...)
	return mine
}

// halve takes the upper half of the (at most maxRanges) widest ranges
// that holder has left, and returns them, ascending. The caller holds mu.
func (b *shareBoard) halve(holder peer.ID, maxRanges int) []HashRange {
	held := b.shares[holder]
	order := make([]int, len(held))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return held[order[i]].Width().Cmp(held[order[j]].Width()) > 0 })
	var taken []HashRange
	for _, i := range order[:min(len(order), maxRanges)] {
		if held[i].Width().Cmp(big.NewInt(2)) < 0 {
			break
		}
		var upper HashRange
		held[i], upper = held[i].upperHalf()
		taken = append(taken, upper)
	}
	sort.Slice(taken, func(i, j int) bool { return bytes.Compare(taken[i].After[:], taken[j].After[:]) < 0 })
	return taken
}

// ShareRange returns lane i's range of provider's share as it is now: its
// end may have moved down since the lane started (another provider took
// half), and its start up (Paged). ok is false when provider holds no
// such range.
func (v *Validation) ShareRange(provider peer.ID, i int) (r HashRange, ok bool) {
	if v == nil {
		return HashRange{}, false
	}
	v.shares.mu.Lock()
	defer v.shares.mu.Unlock()
	s := v.shares.shares[provider]
	if i < 0 || i >= len(s) {
		return HashRange{}, false
	}
	return s[i], true
}

// Paged records that lane i of provider's share has paged through after:
// what is left of its range starts there. A lane that has ended records
// its range's End.
func (v *Validation) Paged(provider peer.ID, i int, after common.Hash) {
	if v == nil {
		return
	}
	v.shares.mu.Lock()
	defer v.shares.mu.Unlock()
	s := v.shares.shares[provider]
	if i < 0 || i >= len(s) || bytes.Compare(after[:], s[i].After[:]) <= 0 {
		return
	}
	s[i].After = after
}

// StealRange gives provider, whose share's lanes have all ended, the upper
// half of the widest range another provider has left, if it holds at
// least minWidth hashes, as a new lane of provider's share; it returns
// the range and the lane's index. The provider it came from is the one
// slower to page it, or stalled.
func (v *Validation) StealRange(provider peer.ID, minWidth *big.Int) (r HashRange, lane int, ok bool) {
	if v == nil {
		return HashRange{}, 0, false
	}
	b := &v.shares
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, held := b.shares[provider]; !held {
		return HashRange{}, 0, false
	}
	var from peer.ID
	at := -1
	var most *big.Int
	for p, s := range b.shares {
		if p == provider {
			continue
		}
		for i, r := range s {
			if w := r.Width(); most == nil || w.Cmp(most) > 0 {
				from, at, most = p, i, w
			}
		}
	}
	if at < 0 || most.Cmp(minWidth) < 0 || most.Cmp(big.NewInt(2)) < 0 {
		return HashRange{}, 0, false
	}
	s := b.shares[from]
	s[at], r = s[at].upperHalf()
	b.shares[provider] = append(b.shares[provider], r)
	return r, len(b.shares[provider]) - 1, true
}

// LeaveShare gives up provider's share: its sync has paged it, or ended.
// Nobody takes over what is left of it but by StealRange; the
// reconciliation that follows a first sync finds the rest. The Service
// calls it when a sync ends.
func (v *Validation) LeaveShare(provider peer.ID) {
	if v == nil {
		return
	}
	b := &v.shares
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.shares[provider]; !ok {
		return
	}
	delete(b.shares, provider)
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
}

// AwaitShares waits until no provider holds a share, and returns nil, or
// ctx's error if ctx ends first. A first sync that has paged its share
// waits so, before it reconciles, for the others to page theirs: what it
// reconciles then is what they missed, not what they are still paging.
func (v *Validation) AwaitShares(ctx context.Context) error {
	if v == nil {
		return nil
	}
	b := &v.shares
	for {
		b.mu.Lock()
		if len(b.shares) == 0 {
			b.mu.Unlock()
			return nil
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
