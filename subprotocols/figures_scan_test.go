package subprotocols_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/testing/testnet"
)

// TestCostlyFilterFigures measures what four peers asking a provider of
// 10 000 orders for reconcile sketches with fresh costly filters (a new
// filter each request, so no snapshot is reused) cost it over 6 s: the
// cores the process keeps busy, and how long a fresh peer waits for the
// answer to a cheap first request meanwhile. It asserts nothing; set
// ORDERSYNC_FIGURES to run it.
func TestCostlyFilterFigures(t *testing.T) {
	if os.Getenv("ORDERSYNC_FIGURES") == "" {
		t.Skip("set ORDERSYNC_FIGURES to measure")
	}
	const attackers, runFor = 4, 6 * time.Second
	hosts := testnet.New(t, 2+attackers)
	provider, fresh := hosts[0], hosts[1]
	startNode(t, provider, testOrders(10_000), nil, all3)
	branch := `{"allOf":[{"$ref":"/signedOrder"},{"required":["noSuchField"]}]}`
	costly := func(r *rand.Rand) string {
		schema := `{"anyOf":[` + strings.TrimSuffix(strings.Repeat(branch+",", 23), ",") +
			fmt.Sprintf(`,{"properties":{"salt":{"const":"%d"}}}]}`, r.Uint64())
		return fmt.Sprintf(`{"customOrderSchema":%q,"chainID":%d,"exchangeAddress":"%s"}`,
			schema, ordergen.DefaultChainID, strings.ToLower(ordergen.DefaultExchange.Hex()))
	}
	var usage0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage0)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered, asked := 0, 0
	refusals := map[string]int{}
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 9))
			for time.Since(start) < runFor {
				s, err := hosts[2+i].NewStream(t.Context(), provider.ID(), ordersync.ID)
				if err != nil {
					return
				}
				_ = s.SetDeadline(time.Now().Add(time.Minute))
				msg := `{"type":"Request","subprotocols":["` + v2 + `"],"metadata":{"metadata":[{"op":"sketch","orderfilter":` + costly(r) + `,"held":10000}]}}` + "\n"
				_, _ = io.WriteString(s, msg)
				mu.Lock()
				asked++
				mu.Unlock()
				buf := make([]byte, 1)
				_, err = s.Read(buf)
				mu.Lock()
				if err == nil {
					answered++
				} else {
					refusals[err.Error()]++
				}
				mu.Unlock()
				_ = s.Reset()
			}
		}()
	}
	var waits []time.Duration
	tick := time.NewTicker(200 * time.Millisecond) // the fresh peer's pace, not a synchronisation
	for time.Since(start) < runFor {
		<-tick.C
		w := openWireStream(t, fresh, provider.ID())
		asked := time.Now()
		w.ask(`{"op":"sketch","orderfilter":null,"held":10000}`)
		waits = append(waits, time.Since(asked))
		_ = w.stream.Reset()
	}
	tick.Stop()
	wg.Wait()
	wall := time.Since(start)
	var usage1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage1)
	cpu := time.Duration(usage1.Utime.Nano()+usage1.Stime.Nano()-usage0.Utime.Nano()-usage0.Stime.Nano()) * time.Nanosecond
	slices.Sort(waits)
	t.Logf("attacker requests ended: %v", refusals)
	t.Logf("FIGURE costly filters: %d attacker requests, %d answered, cores busy %.2f, fresh peer wait median %v max %v (%d asks) over %v",
		asked, answered, cpu.Seconds()/wall.Seconds(), waits[len(waits)/2].Round(time.Millisecond), waits[len(waits)-1].Round(time.Millisecond), len(waits), wall.Round(time.Millisecond))
}
