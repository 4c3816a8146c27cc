// Attacks on a requester: hostile providers that answer with garbage,
// oversize or forged pages, or stall.
package ordersync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"golang.org/x/time/rate"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/peerscore"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/subprotocols/ordinal"
	"github.com/ordersync/ordersync/subprotocols/pagination"
	"github.com/ordersync/ordersync/subprotocols/reconcile"
	"github.com/ordersync/ordersync/testing/attacktest"
	"github.com/ordersync/ordersync/testing/leakcheck"
	"github.com/ordersync/ordersync/testing/testnet"
	"github.com/ordersync/ordersync/zeroex"
)

// Hostile providers: the requester side of the same promise. A provider
// that answers with garbage, too much, nothing, or orders it should not
// send must cost a requester bounded bytes, heap and time, leave no
// goroutine, lower its score, get none of its bad orders stored, and never
// keep the requester from syncing with an honest provider.

// The attacked requester's bounds: small, so that the suite runs quickly.
const (
	hostileMaxResponse = 2 << 20
	hostileMaxPages    = 5
	hostileRounds      = 2
	hostilePerPage     = 10
)

// hostileOrders are valid signed orders a hostile provider may send:
// hostileValid of the honest chain, sorted by hash, and hostileOtherChain
// of another chain, for a requester whose filter wants only the first.
var (
	hostileValid      = sync.OnceValue(func() []hashedOrder { return hashed(ordergen.Generate(ordergen.Options{Seed: 21, Count: 200})) })
	hostileOtherChain = sync.OnceValue(func() []hashedOrder {
		return hashed(ordergen.Generate(ordergen.Options{Seed: 22, Count: hostilePerPage, ChainID: 99, Exchange: ordergen.DefaultExchange}))
	})
)

// hashedOrder is an order with its hash and JSON.
type hashedOrder struct {
	hash common.Hash
	json []byte
}

// hashed returns orders with their hashes and JSON, ascending by hash.
func hashed(orders []*zeroex.SignedOrder) []hashedOrder {
	out := make([]hashedOrder, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			panic(err)
		}
		b, err := json.Marshal(o)
		if err != nil {
			panic(err)
		}
		out[i] = hashedOrder{h, b}
	}
	slices.SortFunc(out, func(a, b hashedOrder) int { return a.hash.Cmp(b.hash) })
	return out
}

// withBadSignature returns o's JSON with its signature's r changed, so that
// it no longer recovers to the maker.
func withBadSignature(o hashedOrder) []byte {
	var m map[string]any
	if err := json.Unmarshal(o.json, &m); err != nil {
		panic(err)
	}
	sig := []byte(m["signature"].(string))
	if sig[10] == '0' { // a hex digit of r
		sig[10] = '1'
	} else {
		sig[10] = '0'
	}
	m["signature"] = string(sig)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// withSignatureType returns o's JSON with its signature's type byte set to
// typ.
func withSignatureType(o hashedOrder, typ byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(o.json, &m); err != nil {
		panic(err)
	}
	sig := m["signature"].(string)
	m["signature"] = fmt.Sprintf("%s%02x", sig[:len(sig)-2], typ)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// v1Response is a version-1 response with the given orders' JSON.
func v1Response(orders [][]byte, complete bool, next common.Hash) []byte {
	b := []byte(`{"type":"Response","subprotocol":"` + filteredpagination.Name + `","orders":[`)
	b = append(b, bytes.Join(orders, []byte(","))...)
	b = fmt.Appendf(b, `],"complete":%t,"metadata":{"nextMinOrderHash":"%s"}}`+"\n", complete, next.Hex())
	return b
}

func jsonOf(orders []hashedOrder) [][]byte {
	out := make([][]byte, len(orders))
	for i, o := range orders {
		out[i] = o.json
	}
	return out
}

// requestCursor reads a request's version-1 cursor: the first request's
// entry for version 1, or a later request's own metadata.
func requestCursor(req []byte) common.Hash {
	var r struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(req, &r)
	var first struct {
		Metadata []struct {
			MinOrderHash string `json:"minOrderHash"`
		} `json:"metadata"`
	}
	if json.Unmarshal(r.Metadata, &first) == nil && len(first.Metadata) > 0 {
		return common.HexToHash(first.Metadata[0].MinOrderHash)
	}
	var later struct {
		MinOrderHash string `json:"minOrderHash"`
	}
	_ = json.Unmarshal(r.Metadata, &later)
	return common.HexToHash(later.MinOrderHash)
}

// hostileScript plays a hostile provider on one stream: it gets each
// request the requester sends (nil when the stream ended) and writes what
// it likes.
type hostileScript func(s network.Stream, nextRequest func() []byte)

// answerEach answers every request with respond(cursor), until the stream
// ends.
func answerEach(respond func(cursor common.Hash) []byte) hostileScript {
	return func(s network.Stream, nextRequest func() []byte) {
		for req := nextRequest(); req != nil; req = nextRequest() {
			if _, err := s.Write(respond(requestCursor(req))); err != nil {
				return
			}
		}
	}
}

// pageAfter is the next hostilePerPage valid orders after cursor.
func pageAfter(cursor common.Hash) []hashedOrder {
	all := hostileValid()
	i, _ := slices.BinarySearchFunc(all, cursor, func(o hashedOrder, h common.Hash) int {
		if o.hash.Cmp(h) <= 0 {
			return -1
		}
		return 1
	})
	return all[i:min(i+hostilePerPage, len(all))]
}

// hostileProvider is a scripted provider case.
type hostileProvider struct {
	name   string
	script hostileScript
	// filter makes the requester keep only orders of the honest chain.
	filter bool
	// stored are the hostile provider's orders the requester may keep:
	// valid ones that passed every check.
	stored []hashedOrder
	// someStored says the requester keeps some of stored, not all: a
	// sync in lanes cut off, where which pages came in before the cut
	// depends on the order the lanes' requests went out in.
	someStored bool
	// lastError is a piece of the requester's last error for the provider.
	lastError string
	// tag is a score tag the requester must have lowered for the provider.
	tag string
	// untouched is a score tag the requester must not have set.
	untouched string
	// synced says the hostile provider does count as synced: it delivered
	// a valid order and completed.
	synced bool
	// reconcile makes the requester offer /reconcile-riblt/version/1
	// first (attack_reconcile_test.go).
	reconcile bool
}

var hostileProviders = []hostileProvider{
	{name: "oversize-response", lastError: "too large", tag: peerscore.InvalidMessage,
		script: func(s network.Stream, nextRequest func() []byte) {
			if nextRequest() == nil {
				return
			}
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			_, _ = attacktest.WriteUntilError(s, []byte(`{"type":"Response","subprotocol":"`+filteredpagination.Name+`","orders":[{"salt":"`), chunk, 256<<20)
		}},
	{name: "garbage", lastError: "invalid message", tag: peerscore.InvalidMessage,
		script: func(s network.Stream, nextRequest func() []byte) {
			if nextRequest() == nil {
				return
			}
			_, _ = s.Write(attacktest.RandomBytes(3, 1<<20))
			// Keep the stream open until the requester gives up on it: a
			// reset would race the requester's read of the garbage, which
			// the stream's window takes in nearly whole.
			nextRequest()
		}},
	{name: "silent", lastError: "deadline",
		script: func(s network.Stream, nextRequest func() []byte) {
			if nextRequest() == nil {
				return
			}
			nextRequest() // until the requester gives up
		}},
	{name: "wrong-subprotocol", lastError: "invalid message", tag: peerscore.InvalidMessage,
		script: answerEach(func(common.Hash) []byte {
			return []byte(`{"type":"Response","subprotocol":"/not/offered","orders":[],"complete":true,"metadata":null}` + "\n")
		})},
	{name: "empty-incomplete", lastError: "no orders but did not complete",
		script: answerEach(func(cursor common.Hash) []byte { return v1Response(nil, false, cursor) })},
	{name: "bad-signatures", lastError: ordersync.ErrNoOrdersFromPeer.Error(), tag: peerscore.InvalidOrderSignature,
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			bad := make([][]byte, len(page))
			for i, o := range page {
				bad[i] = withBadSignature(o)
			}
			return v1Response(bad, false, page[len(page)-1].hash)
		})},
	// Wallet signatures need a chain to check: dropped, but not held
	// against the provider (honest ones hold such orders).
	{name: "unverifiable-signatures", lastError: ordersync.ErrNoOrdersFromPeer.Error(), untouched: peerscore.InvalidOrderSignature,
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			wallet := make([][]byte, len(page))
			for i, o := range page {
				wallet[i] = withSignatureType(o, 0x04)
			}
			return v1Response(wallet, false, page[len(page)-1].hash)
		})},
	{name: "filter-mismatch", filter: true, lastError: ordersync.ErrNoOrdersFromPeer.Error(), tag: peerscore.OrderDoesNotMatchFilter,
		script: answerEach(func(cursor common.Hash) []byte {
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			other := hostileOtherChain()
			return v1Response(jsonOf(other), false, other[len(other)-1].hash)
		})},
	{name: "duplicates", stored: hostileValid()[:1], lastError: "", tag: peerscore.InvalidOrder, synced: true,
		script: answerEach(func(cursor common.Hash) []byte {
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, cursor)
			}
			o := hostileValid()[0]
			return v1Response([][]byte{o.json, o.json, o.json}, false, o.hash)
		})},
	{name: "stalled-cursor", stored: hostileValid()[:hostilePerPage], lastError: "did not advance",
		script: answerEach(func(common.Hash) []byte {
			page := pageAfter(common.Hash{})
			return v1Response(jsonOf(page), false, page[len(page)-1].hash)
		})},
	// In lanes, which pages came before the bound depends on the order
	// the lanes' requests went out in.
	{name: "endless-pages", stored: hostileValid(), someStored: true, lastError: "too many pages",
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			if len(page) == 0 {
				return v1Response(nil, true, common.Hash{})
			}
			return v1Response(jsonOf(page), false, page[len(page)-1].hash)
		})},
	// Lanes (ordersync.WithLanes): after the first page the requester
	// spreads the sync and asks from several cursors at once. A provider
	// that says complete to all of them ends every lane: the sync is done
	// with the first page, and the requests still in flight are dropped.
	{name: "lanes-complete-early", stored: hostileValid()[:hostilePerPage], synced: true,
		script: answerEach(func(cursor common.Hash) []byte {
			if (cursor != common.Hash{}) {
				return v1Response(nil, true, common.Hash{})
			}
			page := pageAfter(cursor)
			return v1Response(jsonOf(page), false, page[len(page)-1].hash)
		})},
	// Each lane's pages start with an order at or before the cursor the
	// lane asked from: out of range, and the provider's fault, since the
	// requester knows the cursor of every lane's request.
	{name: "lanes-orders-before-cursor", stored: hostileValid(), someStored: true, tag: peerscore.InvalidOrder,
		script: answerEach(func(cursor common.Hash) []byte {
			page := pageAfter(cursor)
			if len(page) == 0 {
				return v1Response(nil, true, common.Hash{})
			}
			orders := jsonOf(page)
			if all := hostileValid(); (cursor != common.Hash{}) && page[0].hash != all[0].hash {
				i := slices.IndexFunc(all, func(o hashedOrder) bool { return o.hash == page[0].hash })
				orders = append([][]byte{all[i-1].json}, orders...)
			}
			return v1Response(orders, false, page[len(page)-1].hash)
		})},
}

// TestAttackHostileProvider syncs a requester with an honest provider and
// a hostile one at once, for each hostile behaviour.
func TestAttackHostileProvider(t *testing.T) {
	// No rate limits on the honest provider: the cases follow one another
	// faster than its default limits refill.
	honest := startTarget(t, attackOrders(), ordersync.WithRateLimit(rate.Inf, 0), ordersync.WithPeerRateLimit(rate.Inf, 0))
	for _, hp := range hostileProviders {
		t.Run(hp.name, func(t *testing.T) {
			leaks := leakcheck.Start(t)
			hostile := testnet.NewHost(t)
			hostile.SetStreamHandler(ordersync.ID, func(s network.Stream) {
				defer s.Reset()
				_ = s.SetDeadline(time.Now().Add(hangGuard))
				br := bufio.NewReader(s)
				hp.script(s, func() []byte {
					line, err := br.ReadBytes('\n')
					if err != nil {
						return nil
					}
					return line
				})
			})
			requesterHost := testnet.NewHost(t)
			testnet.Connect(t, requesterHost, honest.host)
			testnet.Connect(t, requesterHost, hostile)

			store := orderstore.NewMemory()
			node := ordersync.NewHostNode(requesterHost)
			subs := realSubprotocols(store, node)
			if hp.reconcile {
				subs = append([]ordersync.Subprotocol{reconcile.New(store, nil, reconcile.WithPeerScorer(node))}, subs...)
			}
			if hp.filter {
				filter, err := orderfilter.NewDefault(ordergen.DefaultChainID, ordergen.DefaultExchange)
				if err != nil {
					t.Fatal(err)
				}
				opt := pagination.WithPeerScorer(node)
				subs = []ordersync.Subprotocol{filteredpagination.New(store, filter, opt), ordinal.New(store, filter, opt)}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			requester := ordersync.New(ctx, node, subs,
				ordersync.WithLogger(testLogger(t)),
				ordersync.WithMessageTimeout(attackTimeout),
				ordersync.WithMaxResponseSize(hostileMaxResponse),
				ordersync.WithMaxPagesPerSync(hostileMaxPages),
				ordersync.WithBackoffFactory(func() backoff.BackOff {
					return backoff.WithMaxRetries(backoff.NewConstantBackOff(10*time.Millisecond), hostileRounds-1)
				}))

			base := heapInuse()
			sampler := sampleHeap()
			start := time.Now()
			// Two peers: the hostile one never counts as synced, so
			// GetOrders gives up after its rounds.
			err := requester.GetOrders(ctx, 2)
			took := time.Since(start)
			peak := sampler.finish()
			if hp.synced && err != nil {
				t.Errorf("GetOrders: %v, want nil: the provider sent a valid order and completed", err)
			}
			if !hp.synced && !errors.Is(err, ordersync.ErrTooFewPeers) {
				t.Errorf("GetOrders: %v, want ErrTooFewPeers", err)
			}

			st := requester.Stats()
			ps := st.Providers[hostile.ID()]
			if !strings.Contains(ps.LastError, hp.lastError) {
				t.Errorf("last error with the hostile provider %q, want it to say %q", ps.LastError, hp.lastError)
			}
			// Each round reads at most its pages' responses, each within
			// the response bound, and in lanes one that ends each lane
			// and one on its way to each lane that ended.
			readBound := int64(hostileRounds * (hostileMaxPages + 1 + 2*ordersync.DefaultLanes) * hostileMaxResponse)
			if ps.BytesReceived > readBound {
				t.Errorf("requester read %d bytes from the hostile provider, bound %d", ps.BytesReceived, readBound)
			}
			var grew uint64
			if peak > base {
				grew = peak - base
			}
			if grew > heapBound {
				t.Errorf("heap grew by %d MiB, bound %d MiB", grew>>20, heapBound>>20)
			}
			if hp.tag != "" {
				info := requesterHost.ConnManager().GetTagInfo(hostile.ID())
				if info == nil || info.Tags[hp.tag] >= 0 {
					t.Errorf("requester's %s tag for the hostile provider not lowered (tags %v)", hp.tag, info)
				}
			}
			if hp.untouched != "" {
				if info := requesterHost.ConnManager().GetTagInfo(hostile.ID()); info != nil {
					if v, ok := info.Tags[hp.untouched]; ok {
						t.Errorf("requester set the hostile provider's %s tag to %d", hp.untouched, v)
					}
				}
			}
			want := append([]common.Hash(nil), honest.want...)
			for _, o := range hp.stored {
				want = append(want, o.hash)
			}
			slices.SortFunc(want, func(a, b common.Hash) int { return a.Cmp(b) })
			want = slices.Compact(want)
			got := storeHashes(t, store)
			if hp.someStored {
				for _, h := range honest.want {
					if _, ok := slices.BinarySearchFunc(got, h, func(a, b common.Hash) int { return a.Cmp(b) }); !ok {
						t.Errorf("requester lacks the honest provider's %s", h)
						break
					}
				}
				for _, h := range got {
					if _, ok := slices.BinarySearchFunc(want, h, func(a, b common.Hash) int { return a.Cmp(b) }); !ok {
						t.Errorf("requester holds %s, not a valid order of either provider", h)
					}
				}
			} else if !slices.Equal(got, want) {
				t.Errorf("requester holds %d orders, want the honest provider's %d and %d valid ones of the hostile provider", len(got), len(honest.want), len(hp.stored))
			}
			t.Logf("ATTACK-RESULT hostile-provider %-18s read %8d B from it (bound %d), heap +%.1f MiB, GetOrders %v; last error: %.120s",
				hp.name, ps.BytesReceived, readBound, float64(grew)/(1<<20), took.Round(time.Millisecond), ps.LastError)

			cancel()
			leaks.Verify(t, requesterHost, hostile)
		})
	}
}
