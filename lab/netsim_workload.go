package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/gorilla/websocket"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/lab/internal/netsim"
	"github.com/ordersync/ordersync/zeroex"
)

// netsimRPCPort is where every node serves 0x Mesh's JSON-RPC API, on its
// namespace's loopback: netsim dials it from inside the namespace, so the
// API's traffic never crosses the node's link.
const netsimRPCPort = 4003

// workloadOrder is one order of the workload: when it was sent to which
// node, and when each node reported it ADDED.
type workloadOrder struct {
	order   *zeroex.SignedOrder
	hash    common.Hash
	size    int64
	expires time.Time // zero: not within the run
	origin  int
	sent    time.Time
	added   []time.Time // per node; zero until ADDED
	reached int         // nodes with added set
}

// workload drives a running network with new orders and times them.
type workload struct {
	cfg     netsimConfig
	net     *netsim.Net
	clients []*rpc.Client

	mu     sync.Mutex
	orders map[common.Hash]*workloadOrder
	// all orders, in the order they were sent
	list []*workloadOrder
	// gen counts each node's restarts: the end of an older subscription
	// is expected
	gen []int
	// subscription failures: a dropped subscription loses events
	subErr error
	// progress gets what the workload says while it runs
	progress io.Writer
}

// workloadEvent is the part of an "orders" event the workload reads.
type workloadEvent struct {
	OrderHash common.Hash `json:"orderHash"`
	EndState  string      `json:"endState"`
}

// connectWorkload dials every node's API from inside its namespace and
// subscribes to its orders, retrying while the node starts; it gives up
// at ctx's end.
func connectWorkload(ctx context.Context, cfg netsimConfig, net *netsim.Net) (*workload, error) {
	w := &workload{cfg: cfg, net: net, orders: make(map[common.Hash]*workloadOrder),
		clients: make([]*rpc.Client, net.Nodes()), gen: make([]int, net.Nodes())}
	for i := range net.Nodes() {
		if err := w.connect(ctx, i); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

// connect dials node i's API, retrying while the node starts, and
// subscribes to its orders.
func (w *workload) connect(ctx context.Context, i int) error {
	url := fmt.Sprintf("ws://127.0.0.1:%d", netsimRPCPort)
	dialer := websocket.Dialer{NetDialContext: w.net.DialContext(i), HandshakeTimeout: 10 * time.Second}
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	var client *rpc.Client
	for {
		var err error
		if client, err = rpc.DialOptions(ctx, url, rpc.WithWebsocketDialer(dialer)); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %d's API at %s: %w", i, url, err)
		case <-retry.C:
		}
	}
	events := make(chan []workloadEvent, 1024)
	sub, err := client.Subscribe(ctx, "mesh", events, "orders")
	if err != nil {
		client.Close()
		return fmt.Errorf("node %d: mesh_subscribe orders: %w", i, err)
	}
	w.mu.Lock()
	w.clients[i] = client
	gen := w.gen[i]
	w.mu.Unlock()
	go w.follow(i, gen, sub, events)
	return nil
}

// follow records node i's ADDED events until its subscription ends. The
// end of a node restarted since (its generation moved on) is no failure.
func (w *workload) follow(i, gen int, sub *rpc.ClientSubscription, events chan []workloadEvent) {
	for {
		select {
		case err := <-sub.Err():
			w.mu.Lock()
			if err != nil && w.gen[i] == gen {
				w.subErr = fmt.Errorf("node %d's orders subscription: %w", i, err)
			}
			w.mu.Unlock()
			return
		case batch := <-events:
			now := time.Now()
			w.mu.Lock()
			for _, e := range batch {
				o := w.orders[e.OrderHash]
				if o == nil || e.EndState != "ADDED" || !o.added[i].IsZero() {
					continue
				}
				o.added[i] = now
				o.reached++
			}
			w.mu.Unlock()
		}
	}
}

func (w *workload) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.clients {
		if c != nil {
			c.Close()
		}
	}
}

// restartNode kills node i, starts it again and reconnects to its API;
// meanwhile no order is sent to it.
func (w *workload) restartNode(ctx context.Context, i int, restart func(i int) error) error {
	w.mu.Lock()
	w.gen[i]++
	old := w.clients[i]
	w.clients[i] = nil
	w.mu.Unlock()
	w.settle(ctx, i)
	old.Close()
	if err := restart(i); err != nil {
		return err
	}
	if err := w.connect(ctx, i); err != nil {
		return err
	}
	return w.catchUp(ctx, i)
}

// settleWait bounds how long a node to be killed is given to pass on the
// orders it was sent.
const settleWait = 10 * time.Second

// settle waits, at most settleWait, until every order sent to node i is on
// another node too. An order that only the killed node held is lost with
// its memory, whatever the protocol: churn tests that the network loses
// nothing that had a moment to leave the node it was sent to (news takes
// about a round trip; periodic syncs up to a round).
func (w *workload) settle(ctx context.Context, i int) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(settleWait)
	for {
		now := time.Now()
		w.mu.Lock()
		pending := false
		for _, o := range w.list {
			if o.origin != i || o.sent.IsZero() || (!o.expires.IsZero() && o.expires.Before(now)) {
				continue
			}
			elsewhere := false
			for j, t := range o.added {
				elsewhere = elsewhere || (j != i && !t.IsZero())
			}
			if !elsewhere {
				pending = true
				break
			}
		}
		w.mu.Unlock()
		if !pending {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			return
		case <-ctx.Done():
			return
		}
	}
}

// catchUp marks the workload orders node i holds as arrived now, if it
// was not seen to hold them before: its ADDED events between its start
// and the new subscription were never seen.
func (w *workload) catchUp(ctx context.Context, i int) error {
	w.mu.Lock()
	client := w.clients[i]
	w.mu.Unlock()
	hashes, err := allOrderHashes(ctx, client)
	if err != nil {
		return fmt.Errorf("node %d: %w", i, err)
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range hashes {
		if o := w.orders[h]; o != nil && o.added[i].IsZero() {
			o.added[i] = now
			o.reached++
		}
	}
	return nil
}

// churn restarts a random node every churnEvery, cfg.churn times, while
// the workload runs.
func (w *workload) churn(ctx context.Context, restart func(i int) error) error {
	rng := rand.New(rand.NewPCG(uint64(w.cfg.seed), 16))
	timer := time.NewTimer(w.cfg.churnEvery)
	defer timer.Stop()
	for range w.cfg.churn {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if err := w.restartNode(ctx, rng.IntN(len(w.gen)), restart); err != nil {
			return err
		}
		timer.Reset(w.cfg.churnEvery)
	}
	return nil
}

// plan generates the workload's orders: rate a second for duration from
// start, a share of them expiring expireAfter after they are sent (to the
// second, as orders carry it), each sent to a random node.
func (w *workload) plan(start time.Time) {
	cfg := w.cfg
	count := int(math.Round(cfg.workload * cfg.duration.Seconds()))
	rng := rand.New(rand.NewPCG(uint64(cfg.seed), 25))
	first := cfg.nodes*cfg.orders + 1_000_000 // past every node's own orders
	for k := range count {
		at := start.Add(time.Duration(float64(k) / cfg.workload * float64(time.Second)))
		opts := ordergen.Options{Seed: cfg.seed, First: first + k, Count: 1}
		var expires time.Time
		if rng.Float64() < cfg.expiring {
			expires = at.Add(cfg.expireAfter).Truncate(time.Second).Add(time.Second)
			opts.ExpirationTimeSeconds, opts.ExactExpiration = expires.Unix(), true
		}
		o := ordergen.Generate(opts)[0]
		h, err := o.ComputeOrderHash()
		if err != nil {
			panic(err) // generated orders hash
		}
		wo := &workloadOrder{order: o, hash: h, size: orderSize(o), expires: expires, origin: rng.IntN(cfg.nodes), sent: at, added: make([]time.Time, cfg.nodes)}
		w.mu.Lock() // the subscriptions already look orders up
		w.orders[h] = wo
		w.list = append(w.list, wo)
		w.mu.Unlock()
	}
}

// run sends every planned order at its time, each in a mesh_addOrders of
// its own, and fails if a node does not accept one.
func (w *workload) run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(w.list))
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, o := range w.list {
		timer.Reset(time.Until(o.sent))
		select {
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		case <-timer.C:
		}
		w.mu.Lock()
		o.sent = time.Now()
		w.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.add(ctx, o); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// add sends o to its node and checks that the node took it.
func (w *workload) add(ctx context.Context, o *workloadOrder) error {
	var res struct {
		Accepted []json.RawMessage `json:"accepted"`
		Rejected []struct {
			Status struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"status"`
		} `json:"rejected"`
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		// A node that is restarting (churn) takes no orders: the next
		// one does.
		w.mu.Lock()
		for w.clients[o.origin] == nil {
			o.origin = (o.origin + 1) % len(w.clients)
		}
		client, gen := w.clients[o.origin], w.gen[o.origin]
		w.mu.Unlock()
		err := client.CallContext(ctx, &res, "mesh_addOrders", []*zeroex.SignedOrder{o.order})
		if err == nil {
			break
		}
		w.mu.Lock()
		restarted := w.gen[o.origin] != gen
		w.mu.Unlock()
		if !restarted {
			return fmt.Errorf("node %d: mesh_addOrders: %w", o.origin, err)
		}
	}
	if len(res.Rejected) > 0 {
		return fmt.Errorf("node %d rejected order %s: %s %s", o.origin, o.hash, res.Rejected[0].Status.Code, res.Rejected[0].Status.Message)
	}
	return nil
}

// lasting reports whether o must reach every node: it does not expire
// before the wait for it can end.
func (o *workloadOrder) lasting(by time.Time) bool { return o.expires.IsZero() || o.expires.After(by) }

// waitReached waits until every order that has not expired by then has
// reached every node, or until deadline or ctx ends; it returns how many
// did not. Every 5 s it says on progress how many are still missing, and
// from how many nodes.
func (w *workload) waitReached(ctx context.Context, deadline time.Time, progress io.Writer) (missing int, err error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	began := time.Now()
	report := time.NewTicker(5 * time.Second)
	defer report.Stop()
	for {
		now := time.Now()
		w.mu.Lock()
		missing = 0
		lacking := make([]int, len(w.clients))
		for _, o := range w.list {
			if o.lasting(now) && o.reached < len(o.added) {
				missing++
				for i, at := range o.added {
					if at.IsZero() {
						lacking[i]++
					}
				}
			}
		}
		subErr := w.subErr
		w.mu.Unlock()
		switch {
		case subErr != nil:
			return missing, subErr
		case missing == 0 || now.After(deadline):
			return missing, nil
		}
		select {
		case <-ctx.Done():
			return missing, ctx.Err()
		case <-report.C:
			fmt.Fprintf(progress, "netsim: workload: %v on: %d orders not on every node; orders lacking per node %v\n",
				time.Since(began).Round(time.Second), missing, lacking)
		case <-tick.C:
		}
	}
}

// reachTimes returns, for each order that reached every node, the time
// from its mesh_addOrders to the last node's ADDED, sorted.
func (w *workload) reachTimes() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for _, o := range w.list {
		if o.reached < len(o.added) {
			continue
		}
		out = append(out, slices.MaxFunc(o.added, func(a, b time.Time) int { return a.Compare(b) }).Sub(o.sent))
	}
	slices.Sort(out)
	return out
}

// checkHeld asks every node for all its orders (mesh_getOrders) and
// returns how many distinct workload orders, expired more than grace
// ago, one still holds, and how many times a node lacks a workload order
// that has not expired: its feed said ADDED, but it is gone.
func (w *workload) checkHeld(ctx context.Context, grace time.Duration) (expiredLeft, lost int, err error) {
	now := time.Now()
	cutoff := now.Add(-grace)
	left := make(map[common.Hash]bool)
	anywhere := make(map[common.Hash]bool)
	for i, c := range w.clients {
		hashes, err := allOrderHashes(ctx, c)
		if err != nil {
			return 0, 0, fmt.Errorf("node %d: %w", i, err)
		}
		held := make(map[common.Hash]bool, len(hashes))
		for _, h := range hashes {
			held[h] = true
			anywhere[h] = true
			if o := w.orders[h]; o != nil && !o.expires.IsZero() && o.expires.Before(cutoff) {
				left[h] = true
			}
		}
		for _, o := range w.list {
			// Orders that expire soon may go while the nodes are asked.
			if o.lasting(now.Add(w.cfg.expiryMargin+30*time.Second)) && !held[o.hash] {
				lost++
			}
		}
	}
	if lost > 0 {
		nowhere := 0
		for _, o := range w.list {
			if o.lasting(now.Add(w.cfg.expiryMargin+30*time.Second)) && !anywhere[o.hash] {
				nowhere++
			}
		}
		fmt.Fprintf(w.progress, "netsim: workload: %d times a node lacks an unexpired order at the end; %d orders are on no node (accepted by a node that was killed before it passed them on)\n", lost, nowhere)
	}
	return len(left), lost, nil
}

// allOrderHashes pages through a node's orders with mesh_getOrders, as
// Mesh's clients do.
func allOrderHashes(ctx context.Context, c *rpc.Client) ([]common.Hash, error) {
	const perPage = 1000
	var hashes []common.Hash
	snapshot := ""
	for page := 0; ; page++ {
		var res struct {
			SnapshotID  string `json:"snapshotID"`
			OrdersInfos []struct {
				OrderHash common.Hash `json:"orderHash"`
			} `json:"ordersInfos"`
		}
		if err := c.CallContext(ctx, &res, "mesh_getOrders", page, perPage, snapshot); err != nil {
			return nil, fmt.Errorf("mesh_getOrders page %d: %w", page, err)
		}
		for _, o := range res.OrdersInfos {
			hashes = append(hashes, o.OrderHash)
		}
		if len(res.OrdersInfos) == 0 {
			return hashes, nil
		}
		snapshot = res.SnapshotID
	}
}

// workloadSummary is what the workload's closing line reports.
type workloadSummary struct {
	added    int
	rate     float64
	duration time.Duration
	reach    []time.Duration // sorted, of the orders that reached every node
	// perOrder is the mean bytes in per node while the orders spread,
	// over the bytes of all the orders added.
	perOrder float64
	idle     float64 // bytes in per node per second with no new orders
	expired  int     // expired orders some node still held
}

// String is the closing line the issue asks for.
func (s workloadSummary) String() string {
	return fmt.Sprintf("netsim workload: %d orders added at %s/s over %v; reached every node: p50 %.2f s, p99 %.2f s; bytes in per node per new order: %.2f× its size; idle: %.0f B/s per node; expired orders left anywhere: %d",
		s.added, formatRate(s.rate), s.duration, percentile(s.reach, 0.50).Seconds(), percentile(s.reach, 0.99).Seconds(), s.perOrder, s.idle, s.expired)
}

// formatRate writes a rate without needless decimals.
func formatRate(r float64) string {
	return fmt.Sprint(math.Round(r*100) / 100)
}

// percentile returns the p-th quantile of sorted by the nearest-rank
// method (0 for none).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// runWorkload is netsim --workload once the nodes run: it connects to
// their APIs, sends the orders, waits for them to reach every node,
// measures an idle stretch, counts expired orders left and prints the
// closing line. It returns an error when an order did not reach every
// node.
func runWorkload(ctx context.Context, cfg netsimConfig, net *netsim.Net, diameter int, restart func(i int) error, stdout, stderr io.Writer) error {
	w, err := connectWorkload(ctx, cfg, net)
	if err != nil {
		return err
	}
	defer w.close()
	w.progress = stderr
	start := time.Now().Add(time.Second)
	w.plan(start)
	fmt.Fprintf(stderr, "netsim: workload: %d orders at %s/s for %v, %.0f%% expiring %v after they are sent; diameter %d × rtt %v = %.2fs\n",
		len(w.list), formatRate(cfg.workload), cfg.duration, cfg.expiring*100, cfg.expireAfter, diameter, cfg.rtt, (time.Duration(diameter) * cfg.rtt).Seconds())
	before, err := readCounters(net)
	if err != nil {
		return err
	}
	churned := make(chan error, 1)
	go func() { churned <- w.churn(ctx, restart) }()
	runErr := w.run(ctx)
	if err := <-churned; err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintf(stderr, "netsim: workload: %d orders sent; waiting for them to reach every node\n", len(w.list))
	missing, err := w.waitReached(ctx, time.Now().Add(cfg.deadline), stderr)
	if err != nil {
		return err
	}
	spread, err := readCounters(net)
	if err != nil {
		return err
	}
	// The idle stretch: no new orders; long enough for the last expiring
	// order to be gone everywhere, as checked after it.
	idleStart := time.Now()
	idleEnd := idleStart.Add(cfg.idle)
	for _, o := range w.list {
		if !o.expires.IsZero() {
			idleEnd = latest(idleEnd, o.expires.Add(cfg.expiryMargin+expiryGrace))
		}
	}
	fmt.Fprintf(stderr, "netsim: workload: %d orders did not reach every node; idle for %v\n", missing, time.Until(idleEnd).Round(time.Second))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(idleEnd)):
	}
	idle, err := readCounters(net)
	if err != nil {
		return err
	}
	expired, lost, err := w.checkHeld(ctx, cfg.expiryMargin+expiryGrace)
	if err != nil {
		return err
	}

	sum := workloadSummary{added: len(w.list), rate: cfg.workload, duration: cfg.duration, reach: w.reachTimes(), expired: expired}
	var newBytes int64
	for _, o := range w.list {
		newBytes += o.size
	}
	var spreadIn, idleIn int64
	for i := range before {
		spreadIn += spread[i].Sub(before[i]).RxBytes
		idleIn += idle[i].Sub(spread[i]).RxBytes
	}
	nodes := float64(len(before))
	if newBytes > 0 {
		sum.perOrder = float64(spreadIn) / nodes / float64(newBytes)
	}
	sum.idle = float64(idleIn) / nodes / time.Since(idleStart).Seconds()
	fmt.Fprintln(stdout, sum)
	if missing > 0 {
		return fmt.Errorf("%d of %d orders did not reach every node", missing, len(w.list))
	}
	if expired > 0 {
		return fmt.Errorf("%d expired orders left on some node", expired)
	}
	if lost > 0 {
		return fmt.Errorf("%d times a node lacks an unexpired order at the end", lost)
	}
	return nil
}

// expiryGrace is how long after an order's expiry (plus the nodes'
// margin) netsim allows before it counts the order as left behind.
const expiryGrace = 2 * time.Second

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
