package netsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer echoes every connection on 127.0.0.1 until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// startRelay runs a Relay to target on 127.0.0.1 until the test ends.
func startRelay(t *testing.T, target string, delay time.Duration, maxQueued int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Relay(ctx, ln, target, delay, maxQueued) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Relay: %v", err)
		}
	})
	return ln.Addr().String()
}

func TestRelayDelaysEveryRoundTrip(t *testing.T) {
	const delay = 40 * time.Millisecond
	addr := startRelay(t, echoServer(t), delay, 1<<20)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 4)
	for i := range 3 {
		start := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		// A lower bound only: the relay holds each direction for delay.
		if rtt := time.Since(start); rtt < 2*delay {
			t.Errorf("round trip %d took %v, want at least %v", i, rtt, 2*delay)
		}
		if string(buf) != "ping" {
			t.Fatalf("echo %q, want ping", buf)
		}
	}
}

func TestRelayCarriesBytesIntactBothWaysAndHalfCloses(t *testing.T) {
	// A queue much smaller than the data: the relay must stop reading and
	// go on, not drop or grow.
	addr := startRelay(t, echoServer(t), time.Millisecond, 64<<10)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := make([]byte, 4<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = c.Write(data)
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c) // ends only if the half-close went through
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes back, want the %d sent, unchanged", len(got), len(data))
	}
}

func TestRelayClosesWhenTargetIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := net.Dial("tcp", startRelay(t, target, 0, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes from a relay with no target, want the connection closed", n)
	}
}

func TestSourceAndFetch(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Source(ctx, ln)
	if _, err := Fetch(ctx, startRelay(t, ln.Addr().String(), 0, 1<<20), 3<<20+17); err != nil {
		t.Fatal(err)
	}
}

// waitDone fails the test if done is not closed within a generous bound:
// it guards against a push that blocks for ever, not against slowness.
func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return", what)
	}
}

func TestDelayQueueBoundsBytesNotChunks(t *testing.T) {
	const max = 64 << 10
	q := newDelayQueue(max)
	small := make([]byte, 1<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range max / len(small) {
			q.push(chunk{data: small})
		}
	}()
	// A queue counted in 32 KiB chunks would take two of these and block.
	waitDone(t, done, "pushing 64 chunks of 1 KiB into a 64 KiB queue")

	full := make(chan struct{})
	go func() {
		defer close(full)
		q.push(chunk{data: small})
	}()
	if _, ok := q.pop(); !ok {
		t.Fatal("pop from a full queue: closed")
	}
	waitDone(t, full, "a push once a pop made room")
	q.mu.Lock()
	held, n := q.bytes, len(q.chunks)
	q.mu.Unlock()
	if held != max || n != max/len(small) {
		t.Errorf("queue holds %d bytes in %d chunks, want %d in %d", held, n, max, max/len(small))
	}

	big := newDelayQueue(1 << 10)
	if !big.push(chunk{data: make([]byte, 4<<10)}) {
		t.Error("a chunk larger than the bound was refused by an empty queue")
	}
	big.fail()
	if big.push(chunk{data: small}) {
		t.Error("push after fail took a chunk")
	}
	big.close()
	if _, ok := big.pop(); ok {
		t.Error("pop after fail and close returned a chunk")
	}
}
