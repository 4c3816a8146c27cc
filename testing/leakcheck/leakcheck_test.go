package leakcheck

import (
	"bytes"
	"testing"

	"github.com/libp2p/go-libp2p"
)

// TestWaitHostsStarted starts real hosts and checks that, once
// WaitHostsStarted returns, each host's identify loop has its push
// goroutine: the goroutine whose late start made leak checks flaky.
func TestWaitHostsStarted(t *testing.T) {
	check := Start(t)
	var hosts []interface{ Close() error }
	for range 3 {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	WaitHostsStarted(t)
	_, loops, waiting := identifyLoopsWithoutPush(nil)
	if waiting != 0 {
		t.Fatalf("%d identify loops without a push goroutine after WaitHostsStarted", waiting)
	}
	if loops < len(hosts) {
		t.Fatalf("%d identify loops found for %d hosts: the stack patterns no longer match go-libp2p", loops, len(hosts))
	}
	for _, h := range hosts {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Closed hosts hold nothing up, and leave nothing behind.
	WaitHostsStarted(t)
	check.Verify(t)
}

// TestStackParsing reads goroutine IDs and parents from this process's
// real stacks.
func TestStackParsing(t *testing.T) {
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		<-stop
	}()
	<-started
	defer close(stop)
	buf := allStacks(nil)
	var sawChild bool
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if _, ok := goroutineID(g); !ok {
			t.Fatalf("no goroutine ID in %q", g[:min(len(g), 80)])
		}
		if bytes.Contains(g, []byte("TestStackParsing.func1(")) {
			if _, ok := createdIn(g); !ok {
				t.Fatalf("no parent goroutine in %q", g)
			}
			sawChild = true
		}
	}
	if !sawChild {
		t.Fatal("the test's own goroutine is not in the stacks")
	}
}
