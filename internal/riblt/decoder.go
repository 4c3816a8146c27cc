package riblt

import (
	"errors"
	"fmt"
)

// Source gives the coded symbols of the decoding side's own set.
// *Encoder is one.
type Source interface {
	Symbols(from, to int) []Symbol
}

// ErrTooManyDifferences is the Decoder's error once it has found more
// differences than its limit.
var ErrTooManyDifferences = errors.New("riblt: more differences than the limit")

// ErrLocalMoved is the Decoder's error when the local Source gives fewer
// symbols than asked for: a source that could not extend the set it began
// with (see Prefixed).
var ErrLocalMoved = errors.New("riblt: the local source cannot give the symbols asked for")

// ErrInconsistent is the Decoder's error when the remote symbols cannot be
// those of any set: the same item decoded twice.
var ErrInconsistent = errors.New("riblt: remote symbols are inconsistent")

// Decoder reconciles the local set (given by a Source) with a remote set
// whose coded symbols arrive in order, in batches. It is not safe for
// concurrent use.
type Decoder struct {
	local   Source
	limit   int
	coded   []Symbol // remote minus local minus what was peeled
	nonzero int      // how many of coded are not zero
	remote  []decoded
	localX  []decoded
	seen    map[Item]struct{}
	queue   []int
	err     error
	// rawCounts are the counts of the remote less the local symbols,
	// before any item was peeled (see EstimateDifferences).
	rawCounts []int8
}

// decoded is an item the Decoder found, with where its mapping stands.
type decoded struct {
	x     Item
	check uint64
	m     mapping
}

// NewDecoder returns a Decoder of the difference between local and the
// remote set, that fails with ErrTooManyDifferences once it has found more
// than limit differences (no limit when limit < 1).
func NewDecoder(local Source, limit int) *Decoder {
	return &Decoder{local: local, limit: limit, seen: make(map[Item]struct{})}
}

// Received is how many remote symbols the Decoder has taken.
func (d *Decoder) Received() int { return len(d.coded) }

// Add takes the remote set's next coded symbols (counts modulo 256, as
// ParseSymbols returns them) and peels what it can. Once Add has failed,
// the Decoder keeps failing.
func (d *Decoder) Add(remote []Symbol) error {
	if d.err != nil {
		return d.err
	}
	start := len(d.coded)
	if len(remote) > MaxIndex-start {
		d.err = fmt.Errorf("riblt: more than %d symbols", MaxIndex)
		return d.err
	}
	end := start + len(remote)
	local := d.local.Symbols(start, end)
	if len(local) != len(remote) {
		d.err = fmt.Errorf("%w: %d symbols for [%d, %d)", ErrLocalMoved, len(local), start, end)
		return d.err
	}
	d.coded = append(d.coded, remote...)
	for i := range remote {
		d.coded[start+i].merge(&local[i], -1)
	}
	for i := start; i < end; i++ {
		d.rawCounts = append(d.rawCounts, int8(d.coded[i].Count))
		if !d.coded[i].isZero() {
			d.nonzero++
			d.queue = append(d.queue, i)
		}
	}
	// Items already found are in the new symbols too.
	for i := range d.remote {
		d.extend(&d.remote[i], -1, uint64(end))
	}
	for i := range d.localX {
		d.extend(&d.localX[i], 1, uint64(end))
	}
	d.err = d.peel()
	return d.err
}

// extend applies a found item's removal (sign) to the symbols it maps to
// below end that it has not reached yet.
func (d *Decoder) extend(it *decoded, sign int64, end uint64) {
	for it.m.next < end {
		d.update(int(it.m.next), &it.x, it.check, sign)
		it.m.advance()
	}
}

// update adds x to symbol i with weight sign, keeping nonzero current.
func (d *Decoder) update(i int, x *Item, check uint64, sign int64) {
	s := &d.coded[i]
	was := !s.isZero()
	s.add(x, check, sign)
	now := !s.isZero()
	switch {
	case was && !now:
		d.nonzero--
	case !was && now:
		d.nonzero++
	}
	if now && isPureCount(s) {
		d.queue = append(d.queue, i)
	}
}

func isPureCount(s *Symbol) bool {
	c := int8(s.Count)
	return c == 1 || c == -1
}

// peel removes every item it can find from the coded symbols.
func (d *Decoder) peel() error {
	end := uint64(len(d.coded))
	for len(d.queue) > 0 {
		i := d.queue[len(d.queue)-1]
		d.queue = d.queue[:len(d.queue)-1]
		s := &d.coded[i]
		if !isPureCount(s) || Checksum(&s.Sum) != s.Check {
			continue
		}
		x := s.Sum
		// A pure symbol's item maps to it; a sum that looks pure by
		// accident of the checksum almost surely does not.
		m := newMapping(&x)
		for m.next < uint64(i) {
			m.advance()
		}
		if m.next != uint64(i) {
			continue
		}
		if _, dup := d.seen[x]; dup {
			return fmt.Errorf("%w: item %x found twice", ErrInconsistent, x[:8])
		}
		d.seen[x] = struct{}{}
		if d.limit > 0 && len(d.seen) > d.limit {
			return fmt.Errorf("%w (%d)", ErrTooManyDifferences, d.limit)
		}
		// Count +1: the remote set holds x; -1: the local one does.
		sign := int64(int8(s.Count))
		it := decoded{x: x, check: s.Check, m: newMapping(&x)}
		d.extend(&it, -sign, end)
		if sign > 0 {
			d.remote = append(d.remote, it)
		} else {
			d.localX = append(d.localX, it)
		}
	}
	return nil
}

// Done reports whether every symbol received is empty once the items found
// are taken out: the difference is then fully known, if the remote symbols
// were honest (check the Digest).
func (d *Decoder) Done() bool { return d.err == nil && len(d.coded) > 0 && d.nonzero == 0 }

// RemoteOnly returns the items found in the remote set only.
func (d *Decoder) RemoteOnly() []Item { return items(d.remote) }

// LocalOnly returns the items found in the local set only.
func (d *Decoder) LocalOnly() []Item { return items(d.localX) }

// Differences is how many items the Decoder has found so far.
func (d *Decoder) Differences() int { return len(d.seen) }

func items(ds []decoded) []Item {
	out := make([]Item, len(ds))
	for i := range ds {
		out[i] = ds[i].x
	}
	return out
}
