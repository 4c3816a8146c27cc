package parallel

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForEachIndexOnce checks every index is done exactly once, for sizes
// that run on one worker, on a few, and on all of them, and for block sizes
// that do and do not divide n.
func TestForEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 5, 31, 32, 33, 64, 65, 100, 1000, 100_003} {
		for _, minPerWorker := range []int{-1, 0, 1, 16, 32, 1 << 20} {
			counts := make([]atomic.Int32, n)
			For(n, minPerWorker, func(i int) {
				counts[i].Add(1)
			})
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("n=%d minPerWorker=%d: index %d done %d times", n, minPerWorker, i, c)
				}
			}
		}
	}
}

// TestForNegativeN checks a negative n does nothing.
func TestForNegativeN(t *testing.T) {
	For(-5, 1, func(i int) { t.Fatalf("fn(%d) called for n = -5", i) })
}

// TestForConcurrent runs For from several goroutines at once, each writing
// its own slice, with more workers than cores; run with -race.
func TestForConcurrent(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	const n = 5000
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			out := make([]int, n)
			For(n, 1, func(i int) { out[i] = i*g + 1 })
			for i, v := range out {
				if v != i*g+1 {
					t.Errorf("goroutine %d: out[%d] = %d, want %d", g, i, v, i*g+1)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestForWorkers checks how many goroutines For uses: the caller's alone
// when one worker suffices, up to GOMAXPROCS when the work splits.
func TestForWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	caller := goid()
	var mu sync.Mutex
	seen := map[uint64]bool{}
	record := func(int) {
		id := goid()
		mu.Lock()
		seen[id] = true
		mu.Unlock()
	}

	For(63, 32, record)
	if len(seen) != 1 || !seen[caller] {
		t.Fatalf("63 items at 32 per worker: ran on %d goroutines (caller's: %v), want the caller's alone", len(seen), seen[caller])
	}

	// Slow calls so that every worker gets some of the work.
	clear(seen)
	For(400, 1, func(i int) {
		record(i)
		time.Sleep(100 * time.Microsecond)
	})
	if len(seen) < 2 || len(seen) > 4 || !seen[caller] {
		t.Fatalf("400 items on 4 cores: ran on %d goroutines (caller's: %v), want 2 to 4 including the caller's", len(seen), seen[caller])
	}
}

// goid is the running goroutine's id, from its stack trace header
// ("goroutine 7 [running]:").
func goid() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = b[len("goroutine "):]
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// BenchmarkFor measures For's overhead on calls that do almost nothing, so
// what it shows is the cost of splitting, not of the work.
func BenchmarkFor(b *testing.B) {
	for _, n := range []int{16, 1000} {
		out := make([]int, n)
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				For(n, 32, func(i int) { out[i] += i })
			}
		})
	}
}
