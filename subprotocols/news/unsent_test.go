package news

import (
	"bufio"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ordersync/ordersync/testing/nodetest"
	"github.com/ordersync/ordersync/testing/testnet"
)

// A push that is never written (the neighbour stopped reading, the write
// timed out and the link failed with the rest of its queue) does not
// leave the neighbour taken to hold the orders: they are announced to it
// on its next link. The neighbour speaks news only (no ordersync), so
// no sync can bring them instead.
func TestUnwrittenPushIsAnnounced(t *testing.T) {
	before := writeTimeout
	writeTimeout = 200 * time.Millisecond
	t.Cleanup(func() { writeTimeout = before })

	hosts := testnet.New(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	announced := make(chan []common.Hash, 64)
	var streams atomic.Int32
	hosts[1].SetStreamHandler(ID, func(s network.Stream) {
		defer s.Reset()
		if streams.Add(1) == 1 {
			<-ctx.Done() // never reads its first stream: the pushes' writes stall
			return
		}
		r := bufio.NewReader(s)
		for {
			m, err := readMessage(r, s.Scope(), kindAnnounce, kindPush, kindRelay, kindGet, kindPrune, kindGraft)
			if err != nil {
				return
			}
			if m.kind == kindAnnounce {
				select {
				case announced <- m.hashes:
				case <-ctx.Done():
					return
				}
			}
		}
	})
	// Budgets and the bulk meter let the node push and then announce all
	// of the orders at once.
	a := startNews(t, hosts[0], nil, nil, WithRate(1e6, 1<<14), WithBulkRate(1e6))
	waitSpeaksNews(t, hosts[0], hosts[1].ID())

	// Many more bytes (about 2.4 MB) than a stream's window (1 MiB:
	// p2phost.StreamWindow) the neighbour never opens: the last of them
	// cannot be written.
	orders := nodetest.Orders(2500)
	if _, err := a.Store.AddOrders(ctx, orders); err != nil {
		t.Fatal(err)
	}
	last := hashesOf(t, orders[len(orders)-1:])[0]
	deadline := time.After(30 * time.Second)
	for {
		select {
		case hashes := <-announced:
			for _, h := range hashes {
				if h == last {
					return
				}
			}
		case <-deadline:
			t.Fatalf("the last order, whose push was never written, was never announced: %+v", a.News.Stats())
		}
	}
}
