package ordersync

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/sirupsen/logrus"

	"github.com/ordersync/ordersync/internal/wire"
)

// ServiceName is the Service's name in libp2p's resource manager: every
// ordersync stream, served or opened, is put in this service's scope, so
// that a node can limit ordersync apart from its other protocols (see
// rcmgr's ServiceLimits), as go-libp2p's ping and identify do with theirs.
const ServiceName = "ordersync"

// Service runs ordersync on a Node: it serves its subprotocols to peers
// that ask (the provider side) and asks peers for their orders with
// GetOrders and PeriodicallyGetOrders (the requester side). Its methods are
// safe for concurrent use.
type Service struct {
	life         lifecycle // New's context, Close
	node         Node
	subprotocols []Subprotocol
	byName       map[string]Subprotocol
	names        []string
	cfg          config
	log          logrus.FieldLogger
	score        scorer

	// responses encodes the provider's responses.
	responses *wire.ResponseEncoder

	// Provider side.
	streams     chan struct{} // one token per inbound stream being served
	peerStreams *peerStreams
	limiter     *fairLimiter
	peerLimiter *peerLimiters

	// Requester side.
	validation *Validation // the node's checks, handed to the subprotocols
	resume     *resumePoints
	flights    flights // the syncs running, at most one per provider

	stats  stats
	tracer serviceTracer // counts into stats, then tells cfg.tracer
}

// New makes a Service that speaks the given subprotocols, most preferred
// first, and registers it as the node's handler for ID. It serves peers
// until ctx ends or Close is called; after that, new streams are reset and
// streams being served are cut off. Close also removes the handler and
// waits for what runs on the Service.
//
// New panics if an option is invalid (see CheckOptions) or two
// subprotocols have the same name: both are programming errors.
func New(ctx context.Context, node Node, subprotocols []Subprotocol, opts ...Option) *Service {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			panic(err)
		}
	}
	s := &Service{
		node:         node,
		subprotocols: append([]Subprotocol(nil), subprotocols...),
		byName:       make(map[string]Subprotocol, len(subprotocols)),
		cfg:          cfg,
		log:          cfg.logger,
		score:        scorer{node},
		streams:      make(chan struct{}, cfg.maxStreams),
		peerStreams:  newPeerStreams(cfg.maxStreamsPerPeer),
		limiter:      newFairLimiter(cfg.rateLimit, cfg.rateBurst),
		peerLimiter:  newPeerLimiters(cfg.peerRateLimit, cfg.peerRateBurst),
		resume:       newResumePoints(maxResumePoints),
	}
	for _, sub := range s.subprotocols {
		name := sub.Name()
		if _, dup := s.byName[name]; dup {
			panic(fmt.Sprintf("ordersync: subprotocol %q given twice", name))
		}
		s.byName[name] = sub
		s.names = append(s.names, name)
	}
	responses, err := wire.NewResponseEncoder(s.names)
	if err != nil {
		panic(err)
	}
	responses.UncachedOrders = cfg.uncachedEncodings
	s.responses = responses
	s.stats.syncing = make(map[string]bool, len(s.names))
	for _, name := range s.names {
		s.stats.syncing[name] = true
	}
	s.tracer = serviceTracer{stats: &s.stats, user: cfg.tracer}
	s.validation = &Validation{validator: cfg.validator, timeout: cfg.validatorTimeout,
		delta: cfg.validatorDelta, expiry: cfg.expiry, skew: cfg.clockSkew, log: cfg.logger}
	for _, sub := range s.subprotocols {
		if r, ok := sub.(MetricsReporter); ok {
			r.ReportMetricsTo(s.tracer)
		}
		if u, ok := sub.(ValidationUser); ok {
			u.UseValidation(s.validation)
		}
	}
	s.life.init(ctx)
	node.SetStreamHandler(ID, s.HandleStream)
	return s
}

// Ensure HandleStream fits the node's handler type.
var _ network.StreamHandler = (*Service)(nil).HandleStream
