package ordersync

import (
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// MetricsTracer receives a Service's events, one method per event, as
// go-libp2p's protocols report theirs. Set one with WithMetricsTracer;
// NewMetricsTracer builds one that exports Prometheus series (see
// docs/metrics.md), and NoopMetricsTracer is the base of tracers of your
// own.
//
// The same events build the Service's Stats: Stats counts what the tracer
// is told, once, so the two cannot disagree. Events come a page, a stream
// or a sync at a time, never an order at a time, from the goroutines of the
// syncs and streams they belong to: methods must be safe for concurrent
// use and quick. A peer ID is passed for tracers that keep per-peer state;
// a tracer that exports series must not use it as a label (the set of
// peers has no bound).
//
// Subprotocols report the events only they can see (why orders were
// rejected, reconciliation rounds) to the tracer the Service hands them; see
// MetricsReporter.
type MetricsTracer interface {
	// SyncEnded is called when a sync with one provider, as a requester,
	// ends: its result, how long it took on this Service's clock, and its
	// error (nil when result is SyncOK). subprotocol is the one the
	// provider chose, "" if it never answered.
	SyncEnded(provider peer.ID, subprotocol string, result SyncResult, d time.Duration, err error)
	// PageReceived is called once per response a requester's subprotocol
	// took in: roundTrip runs from writing the request to having read the
	// response; orders is how many the response held and accepted how
	// many of them the subprotocol kept.
	PageReceived(provider peer.ID, subprotocol string, roundTrip time.Duration, orders, accepted int)
	// OrdersRejected is called by a subprotocol after a page with n > 0 of
	// its orders dropped for reason.
	OrdersRejected(provider peer.ID, reason RejectReason, n int)
	// OrdersStored is called by a subprotocol after a page whose accepted
	// orders included n > 0 that its store did not hold yet.
	OrdersStored(provider peer.ID, n int)
	// GetOrdersEnded is called when a call of GetOrders returns (also each
	// one that PeriodicallyGetOrders makes): how many peers had synced of
	// the minPeers asked for, how long it took, and what it returned.
	GetOrdersEnded(synced, minPeers int, d time.Duration, err error)

	// RequestServed is called once per response a provider wrote: d runs
	// from handing the request to the subprotocol to the last byte
	// written; orders is how many the response held.
	RequestServed(requester peer.ID, subprotocol string, d time.Duration, orders int)
	// StreamRejected is called when a provider turns an inbound stream
	// away or resets it for a broken bound.
	StreamRejected(requester peer.ID, reason StreamRejectReason)

	// StreamOpened and StreamClosed bracket each ordersync stream this
	// Service uses, in either role (for a provider, from the moment it
	// accepts the stream).
	StreamOpened(role Role)
	StreamClosed(role Role)
	// BytesRead and BytesWritten count ordersync stream bytes, a message
	// at a time.
	BytesRead(role Role, p peer.ID, n int)
	BytesWritten(role Role, p peer.ID, n int)

	// ReconciliationRound is for set-reconciliation subprotocols: one
	// round of the exchange with p, in role, that found differences
	// orders the two sides do not share.
	ReconciliationRound(p peer.ID, role Role, subprotocol string, differences int)
}

// MetricsReporter is an optional interface of a Subprotocol that has events
// of its own to report. New calls ReportMetricsTo once, before it serves
// any stream, with the tracer the subprotocol must report to: never nil,
// since the Service's Stats count these events even without
// WithMetricsTracer. A subprotocol belongs to one Service; given to a
// second one, it reports to the second.
type MetricsReporter interface {
	ReportMetricsTo(MetricsTracer)
}

// Role says which side of an exchange an event belongs to.
type Role string

// The roles.
const (
	RoleRequester Role = "requester"
	RoleProvider  Role = "provider"
)

// SyncResult is how a sync with one provider ended: a short fixed list,
// fit for a metric label.
type SyncResult string

// The sync results.
const (
	// SyncOK: the provider said complete after at least one valid order.
	SyncOK SyncResult = "ok"
	// SyncNoOrders: complete, with no valid order (ErrNoOrdersFromPeer).
	SyncNoOrders SyncResult = "no_orders"
	// SyncInvalidMessage: a response was invalid or too large.
	SyncInvalidMessage SyncResult = "invalid_message"
	// SyncRejectedPage: the subprotocol refused a page (say, a cursor
	// that did not move), or a pipelined request did not match.
	SyncRejectedPage SyncResult = "rejected_page"
	// SyncCutOff: the provider sent more than WithMaxPagesPerSync or
	// WithMaxOrdersPerSync allow.
	SyncCutOff SyncResult = "cut_off"
	// SyncTimeout: a message deadline passed.
	SyncTimeout SyncResult = "timeout"
	// SyncStreamError: the stream could not be opened, or broke (the
	// sync resumes in a later round).
	SyncStreamError SyncResult = "stream_error"
	// SyncCanceled: the context of GetOrders ended.
	SyncCanceled SyncResult = "canceled"
	// SyncStoreError: the requester's own store failed (ErrStore).
	SyncStoreError SyncResult = "store_error"
)

// SyncResults lists every SyncResult, in a new slice each call.
func SyncResults() []SyncResult { return slices.Clone(syncResults[:]) }

var syncResults = [...]SyncResult{SyncOK, SyncNoOrders, SyncInvalidMessage, SyncRejectedPage, SyncCutOff, SyncTimeout, SyncStreamError, SyncCanceled, SyncStoreError}

// RejectReason says why a requester's subprotocol dropped an order.
type RejectReason string

// The reasons, in the order the pagination pipeline checks them (see
// package subprotocols/pagination).
const (
	// RejectMalformed: a field is missing or a number out of range.
	RejectMalformed RejectReason = "malformed"
	// RejectOutOfRange: not after the cursor or the page's previous
	// order, or past the bound the provider claimed to have scanned to.
	RejectOutOfRange RejectReason = "out_of_range"
	// RejectBadSignature: the signature is not the maker's, or malformed.
	RejectBadSignature RejectReason = "bad_signature"
	// RejectUnverifiableSignature: a signature type that needs a chain.
	RejectUnverifiableSignature RejectReason = "unverifiable_signature"
	// RejectFilterMismatch: outside the requester's filter.
	RejectFilterMismatch RejectReason = "filter_mismatch"
	// RejectExpired: expired, or expiring within the Service's margin
	// (WithExpiry), by the requester's clock; or refused so by the store.
	RejectExpired RejectReason = "expired"
	// RejectFilled, RejectCancelled and RejectUnfunded: reasons a
	// Validator gives for orders it rejects, as 0x Mesh's order watcher
	// found them on the chain.
	RejectFilled    RejectReason = "filled"
	RejectCancelled RejectReason = "cancelled"
	RejectUnfunded  RejectReason = "unfunded"
	// RejectStoreRefused: the store did not keep the order for a rule of
	// its own (an orderstore.Admitter's refusal other than expiry, such as
	// a full store's maximum expiration).
	RejectStoreRefused RejectReason = "store_refused"
	// RejectIgnored: the Validator answered ValidationIgnore, or failed or
	// timed out: not stored, not held against the provider.
	RejectIgnored RejectReason = "ignored"
	// RejectOther: any reason a subprotocol or Validator of your own has;
	// Stats and tracers that export series map reasons not in this list
	// to it.
	RejectOther RejectReason = "other"
)

// RejectReasons lists every RejectReason, in a new slice each call.
func RejectReasons() []RejectReason { return slices.Clone(rejectReasons[:]) }

var rejectReasons = [...]RejectReason{RejectMalformed, RejectOutOfRange, RejectBadSignature, RejectUnverifiableSignature, RejectFilterMismatch,
	RejectExpired, RejectFilled, RejectCancelled, RejectUnfunded, RejectStoreRefused, RejectIgnored, RejectOther}

// StreamRejectReason says why a provider turned a stream away or cut it
// off.
type StreamRejectReason string

// The reasons. The first six turn a stream away before a byte of it is
// read (Stats.StreamsRejected); the others reset a stream being served for
// a broken bound (Stats.StreamsCutOff).
const (
	// StreamMaxStreams: WithMaxStreams streams were being served.
	StreamMaxStreams StreamRejectReason = "max_streams"
	// StreamMaxStreamsPerPeer: WithMaxStreamsPerPeer streams of the peer
	// were being served.
	StreamMaxStreamsPerPeer StreamRejectReason = "max_streams_per_peer"
	// StreamPeerRateLimit: the peer's limiter (WithPeerRateLimit) was
	// empty.
	StreamPeerRateLimit StreamRejectReason = "peer_rate_limit"
	// StreamRateLimit: the shared limiter (WithRateLimit) was empty.
	StreamRateLimit StreamRejectReason = "rate_limit"
	// StreamResourceLimit: libp2p's resource manager refused the stream
	// or its memory.
	StreamResourceLimit StreamRejectReason = "resource_limit"
	// StreamStopped: the Service's context had ended.
	StreamStopped StreamRejectReason = "stopped"

	// StreamRequestTooLarge: a request was over WithMaxRequestSize.
	StreamRequestTooLarge StreamRejectReason = "request_too_large"
	// StreamInvalidRequest: a request was not valid.
	StreamInvalidRequest StreamRejectReason = "invalid_request"
	// StreamTimeout: a request did not come within its timeout, or the
	// rate limiters did not allow the next one within a message timeout.
	StreamTimeout StreamRejectReason = "timeout"
)

// StreamRejectReasons lists every StreamRejectReason, in a new slice each
// call.
func StreamRejectReasons() []StreamRejectReason { return slices.Clone(streamRejectReasons[:]) }

var streamRejectReasons = [...]StreamRejectReason{StreamMaxStreams, StreamMaxStreamsPerPeer, StreamPeerRateLimit, StreamRateLimit,
	StreamResourceLimit, StreamStopped, StreamRequestTooLarge, StreamInvalidRequest, StreamTimeout}

// turnedAway says whether r turns a stream away before reading it.
func (r StreamRejectReason) turnedAway() bool {
	switch r {
	case StreamRequestTooLarge, StreamInvalidRequest, StreamTimeout:
		return false
	}
	return true
}

// WithMetricsTracer sets the tracer that the Service, and its
// subprotocols that are MetricsReporters, report their events to. nil, the
// default, reports to none; Stats counts either way.
func WithMetricsTracer(t MetricsTracer) Option {
	return func(c *config) error {
		c.tracer = t
		return nil
	}
}

// NoopMetricsTracer does nothing with every event. Embed it in a tracer of
// your own to implement only the events you need; it also keeps your tracer
// compiling when later versions add events.
type NoopMetricsTracer struct{}

var _ MetricsTracer = NoopMetricsTracer{}

// SyncEnded does nothing.
func (NoopMetricsTracer) SyncEnded(peer.ID, string, SyncResult, time.Duration, error) {}

// PageReceived does nothing.
func (NoopMetricsTracer) PageReceived(peer.ID, string, time.Duration, int, int) {}

// OrdersRejected does nothing.
func (NoopMetricsTracer) OrdersRejected(peer.ID, RejectReason, int) {}

// OrdersStored does nothing.
func (NoopMetricsTracer) OrdersStored(peer.ID, int) {}

// GetOrdersEnded does nothing.
func (NoopMetricsTracer) GetOrdersEnded(int, int, time.Duration, error) {}

// RequestServed does nothing.
func (NoopMetricsTracer) RequestServed(peer.ID, string, time.Duration, int) {}

// StreamRejected does nothing.
func (NoopMetricsTracer) StreamRejected(peer.ID, StreamRejectReason) {}

// StreamOpened does nothing.
func (NoopMetricsTracer) StreamOpened(Role) {}

// StreamClosed does nothing.
func (NoopMetricsTracer) StreamClosed(Role) {}

// BytesRead does nothing.
func (NoopMetricsTracer) BytesRead(Role, peer.ID, int) {}

// BytesWritten does nothing.
func (NoopMetricsTracer) BytesWritten(Role, peer.ID, int) {}

// ReconciliationRound does nothing.
func (NoopMetricsTracer) ReconciliationRound(peer.ID, Role, string, int) {}

// knownReason is r if it is one of RejectReasons(), RejectOther if not.
func knownReason(r RejectReason) RejectReason {
	for _, k := range rejectReasons {
		if r == k {
			return r
		}
	}
	return RejectOther
}
