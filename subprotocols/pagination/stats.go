package pagination

import "sync/atomic"

// Stats counts what the requester pipeline did with the orders providers
// sent. It is safe for concurrent use; share one between subprotocols with
// WithStats to get a node-wide count. The zero value is ready to use.
type Stats struct {
	received, malformed, outOfRange, badSignature, unverifiable,
	filterMismatch, accepted, added, stalledPages atomic.Uint64
}

// Counts is a snapshot of Stats. Every order received is counted in exactly
// one of Malformed, OutOfRange, BadSignature, UnverifiableSignature,
// FilterMismatch and Accepted.
type Counts struct {
	// Received is every order providers sent.
	Received uint64
	// Malformed orders lack a field or hold a number out of range.
	Malformed uint64
	// OutOfRange orders were not strictly after the page's cursor or the
	// previous order of the page (unsorted or duplicated), or lay past the
	// hash the provider claimed to have scanned to.
	OutOfRange uint64
	// BadSignature orders had an EIP-712 or EthSign signature that is not
	// the maker's, or a malformed signature.
	BadSignature uint64
	// UnverifiableSignature orders had a signature type that needs a chain
	// to check (wallet, validator, pre-signed, EIP-1271).
	UnverifiableSignature uint64
	// FilterMismatch orders did not match the requester's filter.
	FilterMismatch uint64
	// Accepted orders passed every check and went to the store.
	Accepted uint64
	// New is how many accepted orders the store did not hold yet.
	New uint64
	// StalledPages counts responses whose cursor did not move forward (a
	// provider sending the same page again); each ended its sync.
	StalledPages uint64
}

// Snapshot returns the current counts. Counters are read one by one, so a
// snapshot taken during a sync may be off by the orders in flight.
func (s *Stats) Snapshot() Counts {
	return Counts{
		Received:              s.received.Load(),
		Malformed:             s.malformed.Load(),
		OutOfRange:            s.outOfRange.Load(),
		BadSignature:          s.badSignature.Load(),
		UnverifiableSignature: s.unverifiable.Load(),
		FilterMismatch:        s.filterMismatch.Load(),
		Accepted:              s.accepted.Load(),
		New:                   s.added.Load(),
		StalledPages:          s.stalledPages.Load(),
	}
}
