package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ordersync/ordersync/subprotocols/reconcile"
)

// Requesters that abuse serve's /reconcile-riblt/version/1.
func init() {
	serveAttacks = append(serveAttacks,
		serveAttack{"reconcile-symbol-flood", serveReconcileRequests(func(i int) string {
			// Ever more symbols of snapshots serve never made.
			return fmt.Sprintf(`{"op":"sketch","orderfilter":null,"snapshot":%d,"from":%d,"count":1000000000}`, 1000+i, i*reconcile.MaxSymbolsPerResponse)
		})},
		// The largest held count: once a negative symbol count, a panic
		// and a dead serve process.
		serveAttack{"reconcile-held-overflow", serveReconcileRequests(func(int) string {
			return `{"op":"sketch","orderfilter":null,"held":9223372036854775807}`
		})},
		// Sketches claiming 2^40 held orders, each the largest first
		// answer there is: serve's answer budget for one peer holds the
		// bytes to a burst and a rate, whatever the Service's rate limits.
		serveAttack{"reconcile-amplification", serveReconcileRequests(func(int) string {
			return `{"op":"sketch","orderfilter":null,"held":1099511627776}`
		})},
		// List requests with the largest held filter there is: of no
		// bits (serve lists every hash, within the answer budget) and of
		// every bit (serve tests every hash of its snapshot and lists
		// none).
		serveAttack{"reconcile-held-filter-empty", serveReconcileRequests(func(i int) string {
			return heldFilterRequest(0x00, i)
		})},
		serveAttack{"reconcile-held-filter-full", serveReconcileRequests(func(i int) string {
			return heldFilterRequest(0xff, i)
		})},
		serveAttack{"reconcile-fetch-unknown", serveReconcileRequests(func(i int) string {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			hashes := make([]byte, 32*reconcile.MaxFetch)
			for j := range hashes {
				hashes[j] = byte(r.Uint32())
			}
			return `{"op":"fetch","orderfilter":null,"hashes":"` + base64.StdEncoding.EncodeToString(hashes) + `"}`
		})},
		// List requests with the largest held set there is: of zeros
		// (every value 0: serve lists every hash, within the answer
		// budget) and of ones (a quotient that never ends: it does not
		// decode).
		serveAttack{"reconcile-held-set-zeros", serveReconcileRequests(func(i int) string {
			return heldSetRequest(0x00, i)
		})},
		serveAttack{"reconcile-held-set-ones", serveReconcileRequests(func(i int) string {
			return heldSetRequest(0xff, i)
		})},
		// Fetches by the most positions of snapshots serve never made
		// (answered "gone"), and of small ids past any snapshot's end
		// (gone, or an invalid request if serve made such an id).
		serveAttack{"reconcile-fetch-positions-unknown", serveReconcileRequests(func(i int) string {
			return positionsFetch(1<<40+uint64(i), 0)
		})},
		serveAttack{"reconcile-fetch-positions-past", serveReconcileRequests(func(i int) string {
			return positionsFetch(uint64(i%4+1), 1<<24-reconcile.MaxFetch)
		})},
	)
}

// positionsFetch is a fetch of reconcile.MaxFetch positions of snapshot,
// from first up.
func positionsFetch(snapshot uint64, first int) string {
	positions := binary.AppendUvarint(nil, uint64(first))
	positions = append(positions, bytes.Repeat([]byte{1}, reconcile.MaxFetch-1)...)
	return fmt.Sprintf(`{"op":"fetch","orderfilter":null,"snapshot":%d,"positions":"%s"}`, snapshot, base64.StdEncoding.EncodeToString(positions))
}

// serveReconcileRequests sends 20 reconcile requests on one stream, each
// metadata(i), and checks that every answer stays within a response's
// bounds: at most MaxSymbolsPerResponse symbols, and no orders for hashes
// serve does not hold.
func serveReconcileRequests(metadata func(i int) string) serveAttackFunc {
	return onStream(func(s network.Stream, _ func(), _ <-chan struct{}) serveAttackResult {
		const requests = 20
		br := bufio.NewReaderSize(s, 64<<10)
		var res serveAttackResult
		largest, total := 0, 0
		start := time.Now()
		for i := range requests {
			msg := `{"type":"Request","subprotocols":["` + reconcile.Name + `"],"metadata":` + metadata(i) + "}\n"
			res.maxRead += int64(len(msg))
			if _, err := s.Write([]byte(msg)); err != nil {
				res.err = fmt.Errorf("request %d: %w", i, err)
				return res
			}
			line, err := br.ReadSlice('\n')
			for err == bufio.ErrBufferFull {
				var more []byte
				more, err = br.ReadSlice('\n')
				line = append(append([]byte(nil), line...), more...)
			}
			if err != nil {
				// Serve may end the stream; it must not have answered
				// beyond the bounds before.
				res.note = fmt.Sprintf("stream ended after %d answers (largest %d B): %v", i, largest, err)
				return res
			}
			largest = max(largest, len(line))
			total += len(line)
		}
		took := time.Since(start)
		// 16 384 symbols of 41 bytes, in base64, and the envelope.
		if limit := reconcile.MaxSymbolsPerResponse*41*4/3 + 4096; largest > limit {
			res.err = fmt.Errorf("an answer of %d B, over %d", largest, limit)
		}
		// Sketch answers draw on serve's budget for this peer: a burst
		// and a rate (the fetches' tiny answers count nowhere: 4 KiB each
		// at most).
		if budget := reconcile.DefaultAnswerBurst + int(took.Seconds()*reconcile.DefaultAnswerRate) + requests*4096; total > budget {
			res.err = fmt.Errorf("%d B of answers in %v, over the answer budget's %d", total, took, budget)
		}
		res.note = fmt.Sprintf("%d answers, largest %d B, %d B in all in %v", requests, largest, total, took.Round(time.Millisecond))
		return res
	})
}

// heldFilterRequest is a list request with a held filter of
// reconcile.MaxHeldFilter bytes of fill, the most positions, and salt i.
func heldFilterRequest(fill byte, i int) string {
	filter := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, reconcile.MaxHeldFilter))
	return fmt.Sprintf(`{"op":"sketch","orderfilter":null,"list":true,"heldFilter":"%s","heldFilterPositions":%d,"heldFilterSalt":%d}`,
		filter, reconcile.MaxHeldFilterPositions, i)
}

// heldSetRequest is a list request with a held set of
// reconcile.MaxHeldSet bytes of fill, of the most values, and salt i.
func heldSetRequest(fill byte, i int) string {
	set := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, reconcile.MaxHeldSet))
	return fmt.Sprintf(`{"op":"sketch","orderfilter":null,"list":true,"heldSet":"%s","heldSetCount":%d,"heldSetBits":28,"heldSetSalt":%d}`,
		set, reconcile.MaxSymbols, i)
}
