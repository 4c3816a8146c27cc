package paging

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/ordersync/ordersync/orderfilter"
)

// ScanSlots caps how many scans with a costly filter run at once: Serve
// holds a slot for the whole scan of a request whose filter runs the schema
// engine (see orderfilter's IsTrivial). Such a filter may cost a provider
// about 230 µs an order, so without a cap a few peers could keep every core
// busy; requests with a trivial filter, such as the default {}, never take
// a slot, so honest syncs are not held up by them. Pagers share one
// process-wide ScanSlots unless given their own with WithScanSlots. Make
// one with NewScanSlots; it is safe for concurrent use.
type ScanSlots struct {
	slots chan struct{}

	// Test hooks, nil in production: a scan found every slot taken, took
	// a slot (called holding it), is about to give its slot back.
	onWait, onHold, onRelease func()
}

// NewScanSlots returns a cap of n concurrent costly scans; n below 1 means
// DefaultScanSlots.
func NewScanSlots(n int) *ScanSlots {
	if n < 1 {
		n = DefaultScanSlots()
	}
	return &ScanSlots{slots: make(chan struct{}, n)}
}

// processScanSlots is the ScanSlots of every Pager made without
// WithScanSlots: the cores are the process's, so is the cap.
var processScanSlots = NewScanSlots(0)

// DefaultScanSlots is the cap of a ScanSlots made without one: half the
// cores Go may use (GOMAXPROCS), at least one, so that costly filters leave
// the other half to everything else.
func DefaultScanSlots() int {
	return max(1, runtime.GOMAXPROCS(0)/2)
}

// Cap returns how many costly scans may run at once.
func (s *ScanSlots) Cap() int { return cap(s.slots) }

// acquire takes a slot. When none is free it waits, at most wait and while
// ctx lasts: a scan that cannot start soon gives up (ErrScanLimit) rather
// than queue behind others for the whole message timeout.
func (s *ScanSlots) acquire(ctx context.Context, wait time.Duration) error {
	select {
	case s.slots <- struct{}{}:
	default:
		if s.onWait != nil {
			s.onWait()
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-timer.C:
			return fmt.Errorf("%w: all %d slots for costly filters stayed busy for %v", ErrScanLimit, s.Cap(), wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.onHold != nil {
		s.onHold()
	}
	return nil
}

// release gives back a slot that acquire took.
func (s *ScanSlots) release() {
	if s.onRelease != nil {
		s.onRelease()
	}
	<-s.slots
}

// HoldScanSlot takes one of the Pager's ScanSlots for a scan with filter,
// when filter is costly (not trivial; see Serve), waiting at most wait and
// while ctx lasts; release gives it back. For a trivial filter it takes
// nothing. Subprotocols that scan with a requester's filter outside Serve
// (package reconcile's snapshots and fetches) hold a slot the same way, so
// that the cap counts every costly scan in the process.
func (p *Pager) HoldScanSlot(ctx context.Context, filter *orderfilter.Filter, wait time.Duration) (release func(), err error) {
	if filter == nil || filter.IsTrivial() {
		return func() {}, nil
	}
	if err := p.cfg.slots.acquire(ctx, wait); err != nil {
		return nil, err
	}
	return p.cfg.slots.release, nil
}
