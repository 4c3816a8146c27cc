package leakcheck

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// A go-libp2p host is not fully started when libp2p.New returns: identify
// starts its event loop, and that loop starts the goroutine that sends
// identify pushes only once it has subscribed to the event bus. A leak check
// whose baseline (goleak.IgnoreCurrent) is taken in that gap later finds the
// push goroutine of a host that is still open and reports it as a leak. That
// was the flake in TestAttackHostileProvider: its first subtest took its
// baseline right after the honest provider's host started.
//
// WaitHostsStarted closes the gap: it returns once every identify loop in the
// process has started its push goroutine. It reads goroutine stacks, the
// only place go-libp2p shows this; a host whose loop has already exited
// (it was closed) does not hold it up.

const (
	// The identify loop is started by idService.Start; until it first
	// runs, its stack shows only a wrapper, so it is known by its creator.
	identifyLoopCreator = "created by github.com/libp2p/go-libp2p/p2p/protocol/identify.(*idService).Start in goroutine "
	// The loop starts the push goroutine with WaitGroup.Go and starts
	// nothing else that way; until it first runs, it too shows only
	// WaitGroup.Go's wrapper, so it is known by its parent.
	pushCreator = "created by sync.(*WaitGroup).Go in goroutine "
	// settleTimeout bounds the wait; a loop starts its push goroutine
	// within microseconds of being scheduled, so only a wedged host takes
	// long.
	settleTimeout = 10 * time.Second
)

func WaitHostsStarted(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	var buf []byte
	for {
		var waiting int
		buf, _, waiting = identifyLoopsWithoutPush(buf)
		if waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leakcheck: %d identify loops did not start their push goroutine within %v", waiting, settleTimeout)
		}
		// Let the loop run; it needs no more than being scheduled.
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// identifyLoopsWithoutPush counts identify loop goroutines, and those of
// them that have not started their push goroutine yet. buf is reused
// between calls.
func identifyLoopsWithoutPush(buf []byte) (_ []byte, loops, waiting int) {
	buf = allStacks(buf)
	hasPush := map[uint64]bool{} // identify loop goroutine -> push started
	var wgChildrenOf []uint64    // parents of goroutines started by WaitGroup.Go
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		id, ok := goroutineID(g)
		if !ok {
			continue
		}
		switch {
		case bytes.Contains(g, []byte(identifyLoopCreator)):
			if _, seen := hasPush[id]; !seen {
				hasPush[id] = false
			}
		case bytes.Contains(g, []byte(pushCreator)):
			if parent, ok := createdIn(g); ok {
				wgChildrenOf = append(wgChildrenOf, parent)
			}
		}
	}
	for _, parent := range wgChildrenOf {
		if _, isLoop := hasPush[parent]; isLoop {
			hasPush[parent] = true
		}
	}
	for _, started := range hasPush {
		if !started {
			waiting++
		}
	}
	return buf, len(hasPush), waiting
}

// allStacks returns every goroutine's stack, growing buf until it fits.
func allStacks(buf []byte) []byte {
	if len(buf) == 0 {
		buf = make([]byte, 1<<20)
	}
	for {
		n := runtime.Stack(buf[:cap(buf)], true)
		if n < cap(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*cap(buf))
	}
}

// goroutineID reads N from a stack's first line, "goroutine N [state]:".
func goroutineID(stack []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(stack, []byte("goroutine "))
	if !ok {
		return 0, false
	}
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	return id, err == nil
}

// createdIn reads M from a stack's "created by F in goroutine M" line.
func createdIn(stack []byte) (uint64, bool) {
	const marker = " in goroutine "
	i := bytes.LastIndex(stack, []byte(marker))
	if i < 0 {
		return 0, false
	}
	rest := stack[i+len(marker):]
	end := bytes.IndexByte(rest, '\n')
	if end >= 0 {
		rest = rest[:end]
	}
	id, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
	return id, err == nil
}
