// Package parallel runs a function over the indexes [0, n) on all cores.
//
// For is the one worker pattern of the module: the caller's goroutine and
// up to GOMAXPROCS-1 more take small blocks of indexes from a shared
// counter until none are left, so a core slowed by other work (the network,
// the garbage collector, another sync) holds the whole up by a few items,
// not by a fixed share of them. Work too small to split runs on the
// caller's goroutine alone, with no goroutine started.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// block is how many indexes a worker takes from the counter at a time:
// enough that the counter is not contended, few enough that the workers
// finish together.
const block = 4

// For calls fn(i) once for every i in [0, n) and returns when all calls
// have returned. Calls run concurrently, in no given order, so fn must be
// safe to call from several goroutines; writing to element i of a slice
// made beforehand is.
//
// minPerWorker is how many indexes make another worker worth starting:
// there are min(GOMAXPROCS, n/minPerWorker) workers, at least one, and the
// caller's goroutine is one of them; minPerWorker below 1 counts as 1.
// With one worker, For is a plain loop.
func For(n, minPerWorker int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minPerWorker, 1))
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var taken atomic.Int64
	work := func() {
		for {
			hi := int(taken.Add(block))
			lo := hi - block
			if lo >= n {
				return
			}
			for i := lo; i < min(hi, n); i++ {
				fn(i)
			}
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
