//go:build unix

package paging

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkServeCostlyFilter is what one hostile request costs a provider
// at the defaults: a filter at the evaluation budget that matches none of
// 10 000 stored orders (a whole scan would take seconds). It reports the
// process's CPU time and the orders scanned per request.
func BenchmarkServeCostlyFilter(b *testing.B) {
	orders := sortedOrders(b, 0, 10_000)
	var reads atomic.Int64
	p := NewPager(storeOf(b, orders), nil, withClock(func() time.Time {
		reads.Add(1)
		return time.Now()
	}))
	filter := costlyFilter(b)
	cpuBefore := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Serve(context.Background(), common.Hash{}, filter); !errors.Is(err, ErrScanLimit) {
			b.Fatalf("err = %v, want ErrScanLimit", err)
		}
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpuBefore
	// One clock reading starts each scan; every other one follows
	// scanCheckEvery orders.
	scanned := (reads.Load() - int64(b.N)) * scanCheckEvery
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(scanned)/float64(b.N), "orders/op")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
