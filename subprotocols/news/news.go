package news

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/internal/paging"
	"github.com/ordersync/ordersync/zeroex"
)

// ID is the news protocol's libp2p protocol ID.
const ID = protocol.ID("/ordersync/news/2.0.0")

// Name is the subprotocol name a News reports its fetches under
// (ordersync.MetricsTracer's PageReceived), beside the syncs'.
const Name = "news"

// The peer-score tags a News moves besides peerscore's.
const (
	// Flood gets FloodDelta added each time a peer announces or asks for
	// more hashes than its budget allows (WithRate): the excess is dropped.
	Flood = "ordersync/news-flood"
	// FloodDelta is Flood's change.
	FloodDelta = -1
)

// Stats counts what a News did.
type Stats struct {
	// Announced is how many hashes this node announced, over all peers.
	Announced int64
	// Received is how many hashes peers announced to this node.
	Received int64
	// Fetched is how many orders this node got from announcers (valid or
	// not).
	Fetched int64
	// Served is how many orders this node sent to peers that asked.
	Served int64
	// Dropped is how many announced or asked-for hashes were dropped for
	// a peer over its budget, or for a peer too slow to take them, and
	// how many hashes waiting for their second turn (more than 4 096)
	// were dropped.
	Dropped int64
	// Bulk is how many hashes were neither announced nor fetched because
	// the store was taking in orders in bulk (WithBulkRate).
	Bulk int64
	// Timeouts is how many gets were not answered in time.
	Timeouts int64
	// Pushed is how many orders this node pushed whole to peers.
	Pushed int64
	// PushedIn is how many orders peers pushed to this node.
	PushedIn int64
	// Duplicates is how many pushed orders this node held already, or was
	// getting by another way.
	Duplicates int64
	// Pruned is how many prunes this node sent: pushes of orders it held
	// already, after which the peer announces instead.
	Pruned int64
	// Grafted is how many grafts this node sent: announced orders no push
	// brought in time, after which the peer pushes again.
	Grafted int64
	// Synced is how many of the store's new orders a sync brought: they
	// are neither pushed nor announced, since the provider holds them and
	// the neighbours' own syncs carry them.
	Synced int64
	// Missed is how many changes the store's feed dropped for this News
	// (its buffer was full); the periodic syncs catch them.
	Missed int64
}

// News announces a store's new orders to the node's neighbours and fetches
// theirs (see the package documentation). Make it with New; Close stops it.
type News struct {
	node       ordersync.Node
	store      orderstore.Store
	validation *ordersync.Validation
	claims     *ordersync.Claims // news's own: no sync's end releases them
	tracer     ordersync.MetricsTracer
	pager      *paging.Pager
	cfg        config
	known      *knownTable
	sub        *orderstore.Subscription
	added      bulkMeter // the store's new orders, for telling bulk
	lag        lagMeter  // how far pushes run behind announcements
	synced     syncedTable
	stopSynced func() // ends the Service's calls to synced.note

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	links   map[peer.ID]*link
	peers   map[peer.ID]*peerState
	noNews  map[peer.ID]time.Time // peers found not to speak news, and when
	self    origin                // this node's origin tag
	lazy    lazyTable             // per origin, neighbours pruned: announced to, not pushed to
	inPush  map[common.Hash]int   // hashes being taken in from pushes
	closed  bool
	counter struct {
		announced, received, fetched, served, dropped, timeouts, bulk atomic.Int64
		pushed, pushedIn, duplicates, pruned, grafted, synced         atomic.Int64
	}
}

// peerState is what a News keeps of a peer that talks to it.
type peerState struct {
	in       *rate.Limiter // hashes the peer may announce and ask for
	out      *rate.Limiter // hashes this node announces to it
	streams  int           // its news streams open to this node
	fetching int           // workers getting its queue
	waiting  int           // announcements waiting on other fetches
	queue    []common.Hash // claimed hashes still to get from it
	lazyWait bool          // a worker waits for pushes of later's hashes
	later    []common.Hash // announced, lacking: fetched unless a push brings them
}

// New starts a News for service over store, the store service's
// subprotocols use, and registers its stream handler on node. filter is
// the node's own (nil keeps every valid order): fetched orders must match
// it, as synced ones must. The store must have a change feed
// (orderstore.Subscriber) and answer look-ups by hash (orderstore.Getter).
// The News runs until ctx ends or Close is called.
func New(ctx context.Context, service *ordersync.Service, node ordersync.Node, store orderstore.Store, filter *orderfilter.Filter, opts ...Option) (*News, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	feed, ok := store.(orderstore.Subscriber)
	if !ok {
		return nil, fmt.Errorf("news: store %T has no change feed (orderstore.Subscriber)", store)
	}
	if _, ok := store.(orderstore.Getter); !ok {
		return nil, fmt.Errorf("news: store %T cannot look orders up by hash (orderstore.Getter)", store)
	}
	n := &News{
		node:       node,
		store:      store,
		validation: service.Validation(),
		claims:     service.Validation().NewClaims(),
		tracer:     service.MetricsTracer(),
		pager:      paging.NewPager(store, filter, paging.WithPeerScorer(node), paging.AsCompanion()),
		cfg:        cfg,
		known:      newKnownTable(knownCapacity),
		sub:        feed.Subscribe(orderstore.DefaultFeedBuffer),
		links:      make(map[peer.ID]*link),
		peers:      make(map[peer.ID]*peerState),
		noNews:     make(map[peer.ID]time.Time),
		self:       originOf(node.ID()),
		lazy:       newLazyTable(),
		inPush:     make(map[common.Hash]int),
	}
	n.added.limit = cfg.bulkRate
	n.pager.ReportMetricsTo(n.tracer)
	n.pager.UseValidation(n.validation)
	n.stopSynced = n.validation.OnSynced(n.synced.note)
	n.ctx, n.cancel = context.WithCancel(ctx)
	node.SetStreamHandler(ID, n.handleStream)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.announceLoop()
	}()
	context.AfterFunc(n.ctx, func() { _ = n.Close() })
	return n, nil
}

// Close stops the News: it leaves the change feed, resets its streams and
// waits for its goroutines. New streams are reset from then on. It is safe
// to call more than once.
func (n *News) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	links := n.links
	n.links = map[peer.ID]*link{}
	n.mu.Unlock()
	n.cancel()
	n.stopSynced()
	n.sub.Close()
	for _, l := range links {
		l.close(errClosed)
	}
	n.wg.Wait()
	return nil
}

var errClosed = errors.New("news: closed")

// Stats returns what the News did so far.
func (n *News) Stats() Stats {
	return Stats{
		Announced:  n.counter.announced.Load(),
		Received:   n.counter.received.Load(),
		Fetched:    n.counter.fetched.Load(),
		Served:     n.counter.served.Load(),
		Dropped:    n.counter.dropped.Load(),
		Timeouts:   n.counter.timeouts.Load(),
		Bulk:       n.counter.bulk.Load(),
		Pushed:     n.counter.pushed.Load(),
		PushedIn:   n.counter.pushedIn.Load(),
		Duplicates: n.counter.duplicates.Load(),
		Pruned:     n.counter.pruned.Load(),
		Grafted:    n.counter.grafted.Load(),
		Synced:     n.counter.synced.Load(),
		Missed:     int64(n.sub.Missed()),
	}
}

// peer returns p's state, made on first use. n.mu is held.
func (n *News) peer(p peer.ID) *peerState {
	st, ok := n.peers[p]
	if !ok {
		st = &peerState{
			in:  rate.NewLimiter(rate.Limit(2*n.cfg.rate), 2*n.cfg.burst),
			out: rate.NewLimiter(rate.Limit(n.cfg.rate), n.cfg.burst),
		}
		n.peers[p] = st
	}
	return st
}

// forgetIdle drops the state of p when nothing of it is in use, so that
// the table holds only peers that talk to the node. n.mu is held.
func (n *News) forgetIdle(p peer.ID) {
	st, ok := n.peers[p]
	if ok && st.streams == 0 && st.fetching == 0 && st.waiting == 0 && len(st.queue) == 0 && !st.lazyWait && n.links[p] == nil {
		delete(n.peers, p)
	}
}

// takeIn spends k of p's budget of hashes; false (and the peer scored)
// when it has not that many.
func (n *News) takeIn(p peer.ID, k int) bool {
	n.mu.Lock()
	ok := n.peer(p).in.AllowN(time.Now(), k)
	n.mu.Unlock()
	if !ok {
		n.counter.dropped.Add(int64(k))
		n.node.AddPeerScore(p, Flood, FloodDelta)
	}
	return ok
}

// announceLoop batches the store's new orders, pushes them whole to the
// eager neighbours after batchDelay (a few milliseconds: the fast path,
// no round trip) and announces their hashes to the others after
// lazyDelay (long: announcements are the repair path, and hashes that
// share a packet cost the link a fraction of one each). By then most
// neighbours are known to hold the orders, and are told nothing. That
// announcement is the first turn; the second comes secondTurnWait later
// (turn.go).
func (n *News) announceLoop() {
	eager := newBatch[*zeroex.SignedOrder](n.cfg.batchDelay, MaxGet)
	lazy := newBatch[common.Hash](n.cfg.lazyDelay, MaxAnnounce)
	second := newTurnQueue(n.cfg.secondTurnWait())
	defer eager.stop()
	defer lazy.stop()
	defer second.stop()
	announceFirst := func(hashes []common.Hash) {
		if len(hashes) == 0 {
			return
		}
		if n.announce(hashes, true) {
			n.counter.dropped.Add(int64(second.add(time.Now(), hashes)))
		}
	}
	expiry := n.validation.Expiry()
	for {
		select {
		case c, ok := <-n.sub.Changes():
			if !ok {
				return
			}
			if c.Kind != orderstore.ChangeAdded || c.Order == nil {
				continue
			}
			n.added.add(time.Now(), 1)
			if expiry.Expired(c.Order) {
				continue
			}
			if n.synced.take(c.Hash) {
				n.counter.synced.Add(1)
				continue // the syncs carry it: see synced.go
			}
			if full := lazy.add(c.Hash); full != nil {
				announceFirst(full)
			}
			if full := eager.add(c.Order); full != nil {
				n.pushOrBulk(full, lazy)
			}
		case <-eager.timer.C:
			n.pushOrBulk(eager.take(), lazy)
		case <-lazy.timer.C:
			announceFirst(lazy.take())
		case <-second.timer.C:
			n.announce(second.takeDue(time.Now()), false)
		case <-n.ctx.Done():
			return
		}
	}
}

// pushOrBulk pushes orders, unless the store is taking in orders in bulk:
// then they are neither pushed nor announced (they leave the lazy batch).
func (n *News) pushOrBulk(orders []*zeroex.SignedOrder, lazy *batch[common.Hash]) {
	if len(orders) == 0 {
		return
	}
	if !n.added.bulk(time.Now()) {
		n.push(orders)
		return
	}
	n.counter.bulk.Add(int64(len(orders)))
	drop := make(map[common.Hash]bool, len(orders))
	for _, o := range orders {
		h, _ := o.ComputeOrderHash()
		drop[h] = true
	}
	lazy.items = slices.DeleteFunc(lazy.items, func(h common.Hash) bool { return drop[h] })
}

// batch gathers items to send together, for at most delay, and at most
// limit of them.
type batch[T any] struct {
	delay time.Duration
	limit int
	items []T
	timer *time.Timer
}

func newBatch[T any](delay time.Duration, limit int) *batch[T] {
	b := &batch[T]{delay: delay, limit: limit, timer: time.NewTimer(time.Hour)}
	b.timer.Stop()
	return b
}

// add puts x in the batch and returns the items to send now, if any: the
// batch when it is full or the delay is 0.
func (b *batch[T]) add(x T) []T {
	b.items = append(b.items, x)
	switch {
	case len(b.items) >= b.limit || b.delay == 0:
		b.timer.Stop()
		return b.take()
	case len(b.items) == 1:
		b.timer.Reset(b.delay)
	}
	return nil
}

// take empties the batch, returning what it held.
func (b *batch[T]) take() []T {
	out := b.items
	b.items = nil
	return out
}

func (b *batch[T]) stop() { b.timer.Stop() }

// neighborWait bounds how long an announcement waits to learn which
// neighbours speak news.
const neighborWait = time.Second

// noNewsFor is how long a peer that refused a news stream is left alone.
const noNewsFor = time.Minute

// neighbors lists the connected peers that speak news, where the node can
// tell, less those that refused it lately.
func (n *News) neighbors() []peer.ID {
	var peers []peer.ID
	if pn, ok := n.node.(ordersync.ProtocolNeighbors); ok {
		ctx, cancel := context.WithTimeout(n.ctx, neighborWait)
		peers = pn.NeighborsSupporting(ctx, ID)
		cancel()
	} else {
		peers = n.node.Neighbors()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	out := peers[:0:0]
	now := time.Now()
	current := make(map[peer.ID]bool, len(peers))
	for _, p := range peers {
		current[p] = true
	}
	n.lazy.keepOnly(current)
	for _, p := range peers {
		if t, ok := n.noNews[p]; ok && now.Sub(t) < noNewsFor {
			continue
		}
		delete(n.noNews, p)
		out = append(out, p)
	}
	return out
}

// announce tells each neighbour of the hashes it is not known to hold
// and this node has the turn for (first or second: see turn.go), within
// its budget, unless the store is taking in orders in bulk: the lazy
// neighbours, and the eager ones a push missed. It returns false when it
// announced nothing for bulk.
func (n *News) announce(hashes []common.Hash, first bool) bool {
	if len(hashes) == 0 {
		return true
	}
	if n.added.bulk(time.Now()) {
		if first { // a second turn's hashes were counted in their first
			n.counter.bulk.Add(int64(len(hashes)))
		}
		return false
	}
	for _, p := range n.neighbors() {
		if p == n.node.ID() {
			continue
		}
		tell := n.known.unknownTo(p, n.turnOf(p, hashes, first))
		if len(tell) > 0 && !n.link(p).hold(tell, n.cfg.lazyHold) {
			n.counter.dropped.Add(int64(len(tell)))
		}
	}
	return true
}

// announcement returns the message that announces to p those of hashes
// it is not known to hold, within its budget (no message: none), and
// marks them as being sent to p: the link settles them when the message
// is written, or not.
func (n *News) announcement(p peer.ID, hashes []common.Hash) outgoing {
	tell := n.allowOut(p, n.known.unknownTo(p, hashes))
	if len(tell) == 0 {
		return outgoing{}
	}
	n.known.sending(p, tell)
	var msg []byte
	for _, g := range n.byOrigin(tell) {
		for part := range slices.Chunk(g.hashes, MaxAnnounce) { // a peer takes no more at once
			msg = appendAnnounce(msg, g.origin, part)
		}
	}
	n.counter.announced.Add(int64(len(tell)))
	return outgoing{msg: msg, told: tell}
}

// originGroup is hashes of one origin.
type originGroup struct {
	origin origin
	hashes []common.Hash
}

// byOrigin splits hashes by their origins, in the order each origin is
// first met.
func (n *News) byOrigin(hashes []common.Hash) []originGroup {
	var groups []originGroup
	index := make(map[origin]int)
	for _, h := range hashes {
		o := n.known.originOf(h, n.self)
		i, ok := index[o]
		if !ok {
			i = len(groups)
			index[o] = i
			groups = append(groups, originGroup{origin: o})
		}
		groups[i].hashes = append(groups[i].hashes, h)
	}
	return groups
}
