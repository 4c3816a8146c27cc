// Package gcfloor lets a program's heap grow by a fixed amount between
// garbage collections however small its live heap is, as if GOGC scaled
// with the heap: the operator's program calls Start once.
//
// Go collects when the heap has grown by GOGC % of what was live after the
// last collection. A node that keeps its orders in a database has a live
// heap of a few MiB while a sync passes hundreds of MiB of pages through
// it, so at GOGC=100 it collected about 200 times in a 100 000-order sync
// (against 17 times with the orders in memory), each cycle a fixed cost
// on cores that verify signatures. With a floor the heap may grow by
// max(live heap, floor) before the next collection: a large heap is
// collected exactly as before, a small one far less often, for at most
// the floor in memory.
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

var once sync.Once

// Start keeps the floor for the rest of the process's life: after every
// collection it sets GOGC so that the next one comes once the heap has
// grown by max(live heap, floor). It does nothing when the environment
// sets GOGC or GOMEMLIMIT (the operator decides then), or when called
// again.
func Start(floor uint64) {
	if floor == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	once.Do(func() { startTuner(floor, nil) })
}

// startTuner sets GOGC for the heap now and after every collection from
// then on, telling adjusted (when not nil) what it set.
func startTuner(floor uint64, adjusted func(percent int)) {
	t := &tuner{floor: floor, percent: 100, adjusted: adjusted}
	t.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t.adjust()
	t.arm()
}

// tuner adjusts GOGC once per collection, from the finalizer of an object
// that each collection finds unreachable.
type tuner struct {
	floor    uint64
	percent  int
	sample   []metrics.Sample
	adjusted func(percent int)
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

// adjust sets GOGC for the live heap that the last collection left.
func (t *tuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := percentFor(t.sample[0].Value.Uint64(), t.floor)
	// Small changes are left: each SetGCPercent recomputes the pacer.
	if p*8 < t.percent*7 || p*7 > t.percent*8 {
		t.percent = p
		debug.SetGCPercent(p)
	}
	if t.adjusted != nil {
		t.adjusted(t.percent)
	}
}

// percentFor is the GOGC under which a heap of live bytes grows by
// max(live, floor) before the next collection.
func percentFor(live, floor uint64) int {
	live = max(live, minHeap)
	if live >= floor {
		return 100
	}
	return int(floor * 100 / live)
}
