package reconcile

import (
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// Name is the subprotocol's name on the wire.
const Name = "/reconcile-riblt/version/1"

// Subprotocol is "/reconcile-riblt/version/1" over a store. It implements
// ordersync.Subprotocol and is safe for concurrent use; use one per node.
type Subprotocol struct {
	store     orderstore.Store
	filter    *orderfilter.Filter
	pager     *paging.Pager
	cfg       config
	snapshots snapshots
	syncs     syncTable
	rejected  *rejectedSet
	budgets   *answerBudgets
	tracer    atomic.Pointer[tracerBox]
	// validation is the Service's (UseValidation): its view of the orders
	// being fetched, and the first syncs' shares.
	validation atomic.Pointer[ordersync.Validation]
}

// tracerBox holds a MetricsTracer for atomic.Pointer.
type tracerBox struct{ ordersync.MetricsTracer }

var (
	_ ordersync.Subprotocol    = (*Subprotocol)(nil)
	_ ordersync.SyncResetter   = (*Subprotocol)(nil)
	_ ordersync.InSyncReporter = (*Subprotocol)(nil)
	_ pagination.PeerScorer    = ordersync.Node(nil)
	_ orderstore.Getter        = (*orderstore.Memory)(nil)
	_ orderstore.Reconciler    = (*orderstore.Memory)(nil)
	_ json.Marshaler           = (*orderfilter.Filter)(nil)
)

// New returns the subprotocol over store. As a provider it serves store's
// orders; as a requester it stores the orders it receives there, keeping
// only those that match filter (nil keeps every valid order) and sending
// filter to providers. It reconciles best over a store that implements
// orderstore.Reconciler (Memory does) with a filter whose custom schema
// accepts everything (orderfilter's IsTrivial). It panics if an option is
// invalid (see CheckOptions).
func New(store orderstore.Store, filter *orderfilter.Filter, opts ...Option) *Subprotocol {
	cfg, err := newConfig(opts)
	if err != nil {
		panic(err)
	}
	s := &Subprotocol{
		store:    store,
		filter:   filter,
		cfg:      cfg,
		pager:    paging.NewPager(store, filter, cfg.pagerOpts...),
		syncs:    syncTable{byPeer: make(map[peer.ID]*syncState)},
		rejected: newRejectedSet(cfg.rejectedMax, cfg.rejectedTTL, cfg.now),
		budgets:  newAnswerBudgets(cfg.answerRate, cfg.answerBurst),
	}
	s.snapshots.s, s.snapshots.nextID = s, firstSnapshotID()
	return s
}

// ReportMetricsTo makes the subprotocol, and the pagination pipeline its
// fetched and paged orders go through, report to t (see
// ordersync.MetricsReporter): each sketch round as a ReconciliationRound
// with the differences found so far.
func (s *Subprotocol) ReportMetricsTo(t ordersync.MetricsTracer) {
	if t == nil {
		t = ordersync.NoopMetricsTracer{}
	}
	s.tracer.Store(&tracerBox{t})
	s.pager.ReportMetricsTo(t)
}

// UseValidation makes the requester run the Service's checks (its
// expiry and the node's Validator) on the orders it fetches and pages,
// before storing them; the Service calls it (see
// ordersync.ValidationUser).
func (s *Subprotocol) UseValidation(v *ordersync.Validation) {
	s.validation.Store(v)
	s.pager.UseValidation(v)
}

func (s *Subprotocol) metrics() ordersync.MetricsTracer {
	if b := s.tracer.Load(); b != nil {
		return b.MetricsTracer
	}
	return ordersync.NoopMetricsTracer{}
}

// Name returns Name.
func (s *Subprotocol) Name() string { return Name }

// ParseRequestMetadata decodes request metadata into a *RequestMetadata.
// Absent or null metadata is a first sketch request without a filter.
func (s *Subprotocol) ParseRequestMetadata(metadata json.RawMessage) (interface{}, error) {
	return parseRequestMetadata(metadata)
}

// ParseResponseMetadata decodes response metadata into a
// *ResponseMetadata.
func (s *Subprotocol) ParseResponseMetadata(metadata json.RawMessage) (interface{}, error) {
	return parseResponseMetadata(metadata)
}

// GenerateFirstRequestMetadata returns the first request's metadata: a
// sketch request with the requester's filter, how many orders it holds
// that match it, and the sum of that set when its store keeps an index
// (same.go).
func (s *Subprotocol) GenerateFirstRequestMetadata() (json.RawMessage, error) {
	held, sum, err := s.heldAndSum()
	if err != nil {
		return nil, err
	}
	return json.Marshal(RequestMetadata{Op: OpSketch, OrderFilter: s.filter, Held: held, Most: firstAnswerMost, HeldSum: sum})
}

// ResetSync forgets the requester's sync with provider; the Service calls
// it before starting a sync over from the beginning.
func (s *Subprotocol) ResetSync(provider peer.ID) {
	s.syncs.forget(provider)
	s.pager.ResetSync(provider)
}

// InSync reports whether the last sync with provider, now complete, showed
// that the requester already held every order of the provider's non-empty
// set (see ordersync.InSyncReporter).
func (s *Subprotocol) InSync(provider peer.ID) bool {
	st := s.syncs.get(provider, false)
	return st != nil && st.inSync
}

// requestMetadata returns a request's metadata as ParseRequestMetadata made
// it; nil metadata is a first request.
func requestMetadata(req *ordersync.Request) (*RequestMetadata, error) {
	if req == nil {
		return nil, fmt.Errorf("reconcile: nil request")
	}
	md, err := meta.As("reconcile: request", req.Metadata, parseRequestMetadata)
	if err != nil {
		return nil, err
	}
	if md.Op == "" {
		md.Op = OpSketch
	}
	return md, nil
}
