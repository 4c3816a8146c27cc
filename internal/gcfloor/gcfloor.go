// Package gcfloor lets a program's heap grow by a fixed amount between
// garbage collections however small its live heap is, as if GOGC scaled
// with the heap: the operator's program calls Start once.
//
// Go collects when the heap has grown by GOGC % of what was live after the
// last collection. A node that keeps its orders in a database has a live
// heap of a few MiB while a sync passes hundreds of MiB of pages through
// it, so it collected about 200 times in a 100 000-order sync (against 17
// times with the orders in memory), each cycle a fixed cost on cores that
// verify signatures. With a floor the heap may grow by the larger of the
// floor and GOGC % of the live heap before the next collection: a large
// heap is collected exactly as before, a small one far less often, for at
// most the floor in memory.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// DefaultFloor is the growth the operator's program allows between
// collections: 64 MiB, about a fifth of what a sync's pipeline holds at
// once in pages and orders.
const DefaultFloor = 64 << 20

// minHeap is the Go runtime's smallest heap goal at GOGC=100, 4 MiB; it
// scales with GOGC, so a live heap below it is taken as this large, or a
// tiny heap's GOGC would raise the goal far beyond the floor.
const minHeap = 4 << 20

var (
	mu      sync.Mutex
	running *tuner // the process's tuner, once Start started it
)

// Start keeps the floor for the rest of the process's life: after every
// collection it sets GOGC so that the next one comes once the heap has
// grown by the larger of the floor and the base GOGC (100, or SetBase's) %
// of the live heap. It does nothing when the environment sets GOGC or
// GOMEMLIMIT (the operator decides then), or when called again.
func Start(floor uint64) {
	if floor == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if running == nil {
		running = startTuner(floor, nil)
	}
}

// SetBase makes percent the GOGC that applies to a heap larger than the
// floor allows for (all heaps when Start has not run), and returns what
// puts the previous base back. A command that keeps most of what it
// allocates lowers it to bound its peak.
func SetBase(percent int) (restore func()) {
	mu.Lock()
	t := running
	mu.Unlock()
	if t == nil {
		old := debug.SetGCPercent(percent)
		return func() { debug.SetGCPercent(old) }
	}
	old := t.setBase(percent)
	return func() { t.setBase(old) }
}

// tuner adjusts GOGC once per collection, from the finalizer of an object
// that each collection finds unreachable.
type tuner struct {
	floor    uint64
	adjusted func(percent int) // for tests: told each setting

	mu      sync.Mutex
	base    int
	percent int
	sample  []metrics.Sample
}

// startTuner sets GOGC for the heap now and after every collection from
// then on, telling adjusted (when not nil) what it set.
func startTuner(floor uint64, adjusted func(percent int)) *tuner {
	t := &tuner{floor: floor, adjusted: adjusted, base: 100, percent: 100}
	t.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t.adjust()
	t.arm()
	return t
}

// sentinel holds a pointer so that it is never tiny-allocated, which could
// keep it reachable beside another object and its finalizer from running.
type sentinel struct{ _ *tuner }

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		t.adjust()
		t.arm()
	})
}

// setBase changes the base GOGC and applies it at once.
func (t *tuner) setBase(percent int) (old int) {
	t.mu.Lock()
	old, t.base = t.base, percent
	t.mu.Unlock()
	t.adjust()
	return old
}

// adjust sets GOGC for the live heap that the last collection left.
func (t *tuner) adjust() {
	t.mu.Lock()
	defer t.mu.Unlock()
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := percentFor(t.sample[0].Value.Uint64(), t.floor, t.base)
	// Small changes are left: each SetGCPercent recomputes the pacer.
	if p != t.percent && (p == t.base || p*8 < t.percent*7 || p*7 > t.percent*8) {
		t.percent = p
		debug.SetGCPercent(p)
	}
	if t.adjusted != nil {
		t.adjusted(t.percent)
	}
}

// percentFor is the GOGC under which a heap of live bytes grows by the
// larger of floor and base % of live before the next collection.
func percentFor(live, floor uint64, base int) int {
	live = max(live, minHeap)
	return max(base, int(floor*100/live))
}
