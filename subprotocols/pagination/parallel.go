package pagination

import (
	"runtime"
	"sync"
)

// minPerWorker keeps small pages on one goroutine, where starting workers
// would cost more than it saves.
const minPerWorker = 32

// parallel calls fn on contiguous chunks of [0, n) on all cores and waits.
func parallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+minPerWorker-1)/minPerWorker)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, min(lo+chunk, n))
		}()
	}
	fn(0, chunk) // the caller's goroutine takes the first chunk
	wg.Wait()
}
