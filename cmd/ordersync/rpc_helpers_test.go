package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/proctest"
	"github.com/ordersync/ordersync/zeroex"
)

// rpcNode is an "ordersync node --rpc" process.
type rpcNode struct {
	*proctest.Process
	// p2p is its libp2p address; hostPort that of its API.
	p2p, hostPort string
}

// startRPCNode starts a node with the API on a free loopback port. Its
// stdout lines are drained unless keepLines, so that it never blocks.
func startRPCNode(t *testing.T, bin string, keepLines bool, args ...string) *rpcNode {
	t.Helper()
	p := proctest.Start(t, proctest.Command(bin, append([]string{"node", "--rpc", "127.0.0.1:0", "--interval", "300ms"}, args...)...))
	addr := p.WaitLine(t, "address line", func(l string) bool { return strings.HasPrefix(l, "/ip4/") })
	const said = "node: rpc on http://"
	p.Stderr.WaitFor(t, said)
	text := p.Stderr.String()
	hostPort := strings.Fields(text[strings.Index(text, said)+len(said):])[0]
	if !keepLines {
		go func() {
			for range p.Lines {
			}
		}()
	}
	return &rpcNode{Process: p, p2p: addr, hostPort: hostPort}
}

func (n *rpcNode) httpURL() string { return "http://" + n.hostPort }
func (n *rpcNode) wsURL() string   { return "ws://" + n.hostPort }

// dial connects a go-ethereum rpc client to url, closed at the test's end.
func dial(t *testing.T, url string) *rpc.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpc.DialContext(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// call makes one call, failing the test on an error.
func call(t *testing.T, c *rpc.Client, result any, method string, args ...any) {
	t.Helper()
	if err := callErr(c, result, method, args...); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

func callErr(c *rpc.Client, result any, method string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), proctest.Timeout)
	defer cancel()
	return c.CallContext(ctx, result, method, args...)
}

// The answers' shapes as a client reads them.
type (
	rpcResults struct {
		Accepted []rpcAccepted `json:"accepted"`
		Rejected []rpcRejected `json:"rejected"`
	}
	rpcAccepted struct {
		OrderHash                common.Hash         `json:"orderHash"`
		SignedOrder              *zeroex.SignedOrder `json:"signedOrder"`
		FillableTakerAssetAmount string              `json:"fillableTakerAssetAmount"`
		IsNew                    bool                `json:"isNew"`
	}
	rpcRejected struct {
		OrderHash   common.Hash     `json:"orderHash"`
		SignedOrder json.RawMessage `json:"signedOrder"`
		Kind        string          `json:"kind"`
		Status      struct{ Code, Message string }
	}
	rpcPage struct {
		SnapshotID        string    `json:"snapshotID"`
		SnapshotTimestamp time.Time `json:"snapshotTimestamp"`
		OrdersInfos       []struct {
			OrderHash                common.Hash         `json:"orderHash"`
			SignedOrder              *zeroex.SignedOrder `json:"signedOrder"`
			FillableTakerAssetAmount string              `json:"fillableTakerAssetAmount"`
		} `json:"ordersInfos"`
	}
	rpcEvent struct {
		Timestamp                time.Time           `json:"timestamp"`
		OrderHash                common.Hash         `json:"orderHash"`
		SignedOrder              *zeroex.SignedOrder `json:"signedOrder"`
		EndState                 string              `json:"endState"`
		FillableTakerAssetAmount string              `json:"fillableTakerAssetAmount"`
		ContractEvents           []json.RawMessage   `json:"contractEvents"`
	}
)

// codes lists the rejected orders' codes, by order hash.
func (r rpcResults) codes() map[common.Hash]string {
	m := make(map[common.Hash]string)
	for _, rej := range r.Rejected {
		m[rej.OrderHash] = rej.Status.Code
	}
	return m
}

func hashOf(t *testing.T, o *zeroex.SignedOrder) common.Hash {
	t.Helper()
	h, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// expiringOrders are n orders of seed that all expire at unix.
func expiringOrders(seed int64, n int, unix int64) []*zeroex.SignedOrder {
	return ordergen.Generate(ordergen.Options{Seed: seed, Count: n, ExpirationTimeSeconds: unix, ExactExpiration: true})
}

// postRaw posts body to the API as is and returns the status and body.
func postRaw(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitEvents reads events from ch until want accepts them all together,
// at most proctest.Timeout.
func waitEvents(t *testing.T, what string, ch <-chan []rpcEvent, sub *rpc.ClientSubscription, done func(seen []rpcEvent) bool) []rpcEvent {
	t.Helper()
	var seen []rpcEvent
	timeout := time.After(proctest.Timeout)
	for !done(seen) {
		select {
		case evs := <-ch:
			seen = append(seen, evs...)
		case err := <-sub.Err():
			t.Fatalf("%s: subscription ended: %v", what, err)
		case <-timeout:
			t.Fatalf("%s: not seen after %v; saw %d events", what, proctest.Timeout, len(seen))
		}
	}
	return seen
}

// countState counts the events of state among evs for the given hashes.
func countState(evs []rpcEvent, state string, hashes map[common.Hash]bool) int {
	n := 0
	for _, e := range evs {
		if e.EndState == state && hashes[e.OrderHash] {
			n++
		}
	}
	return n
}

func hashSet(t *testing.T, orders []*zeroex.SignedOrder) map[common.Hash]bool {
	m := make(map[common.Hash]bool, len(orders))
	for _, o := range orders {
		m[hashOf(t, o)] = true
	}
	return m
}

func bigString(n int64) string { return big.NewInt(n).String() }
