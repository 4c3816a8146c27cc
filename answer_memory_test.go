package ordersync

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/testing/testnet"
)

// vmRSS reads this process's resident set size now (VmRSS) and at its
// peak (VmHWM), in bytes.
func vmRSS(t testing.TB) (now, peak int64) {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		for name, v := range map[string]*int64{"VmRSS:": &now, "VmHWM:": &peak} {
			if rest, ok := strings.CutPrefix(line, name); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				*v = kb << 10
			}
		}
	}
	return now, peak
}

// answerOf builds one response of real orders of about size bytes.
func answerOf(t testing.TB, name string, size int) []byte {
	t.Helper()
	signed := orders(21, 2000)
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"Response","subprotocol":%q,"orders":[`, name)
	for i := 0; b.Len() < size-4096; i++ {
		o, err := json.Marshal(signed[i%len(signed)])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString(`],"complete":true,"metadata":{"next":0}}` + "\n")
	return []byte(b.String())
}

// TestAnswerMemoryFigures measures what one answer of about 16 MiB of
// orders costs a requester: its peak RSS above what it held before, with
// the Go runtime's defaults. It asserts nothing; set ORDERSYNC_FIGURES to
// run it (alone: the figure is of the whole process).
func TestAnswerMemoryFigures(t *testing.T) {
	if os.Getenv("ORDERSYNC_FIGURES") == "" {
		t.Skip("set ORDERSYNC_FIGURES to measure")
	}
	answer := answerOf(t, "/test/a", DefaultMaxResponseSize-1024)
	hosts := testnet.New(t, 2)
	provider, requesterHost := hosts[0], hosts[1]
	answerOnce(provider, answer)
	sub := newPager("/test/a", nil, 100_000)
	sub.trust, sub.discard = true, true // the answer's cost, not signatures' or the store's
	requester := newService(t, requesterHost, []Subprotocol{sub}, testOptions(t, 1)...)
	debug.FreeOSMemory()                                      // the RSS before is what is live, not garbage of the setup
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM
	before, _ := vmRSS(t)
	err := requester.GetOrders(context.Background(), 1)
	_, peak := vmRSS(t)
	for id, ps := range requester.Stats().Providers {
		if ps.LastError != "" {
			t.Logf("provider %s: %s", id, ps.LastError)
		}
	}
	t.Logf("FIGURE answer memory: answer %.1f MiB, %d pages taken, RSS %.1f MiB before, peak %.1f MiB: +%.1f MiB (GetOrders: %v)",
		float64(len(answer))/(1<<20), sub.pages, float64(before)/(1<<20), float64(peak)/(1<<20), float64(peak-before)/(1<<20), err)
}
