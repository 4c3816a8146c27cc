package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercentFor(t *testing.T) {
	for _, c := range []struct {
		live, floor uint64
		base, want  int
	}{
		{0, 64 << 20, 100, 1600},       // no collection yet: the runtime's minimum heap
		{1 << 20, 64 << 20, 100, 1600}, // below the minimum: its goal would pass the floor
		{8 << 20, 64 << 20, 100, 800},
		{64 << 20, 64 << 20, 100, 100},
		{1 << 30, 64 << 20, 100, 100}, // a large heap collects as at GOGC=100
		{1 << 30, 64 << 20, 50, 50},   // or at its base
		{8 << 20, 64 << 20, 50, 800},
	} {
		if got := percentFor(c.live, c.floor, c.base); got != c.want {
			t.Errorf("percentFor(%d, %d, %d) = %d, want %d", c.live, c.floor, c.base, got, c.want)
		}
	}
}

// TestStartRaisesGOGCForASmallHeap runs the tuner for real: after a
// collection with a live heap of a few MiB, GOGC is raised so that the heap
// may grow by the floor.
func TestStartRaisesGOGCForASmallHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	seen := make(chan int, 100)
	startTuner(64<<20, func(p int) {
		select {
		case seen <- p:
		default:
		}
	})
	<-seen // its setting at the start; what follows comes from collections
	runtime.GC()
	for p := range seen {
		if p > 100 {
			return
		}
		runtime.GC()
	}
}
