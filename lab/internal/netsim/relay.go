package netsim

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Relay accepts TCP connections on ln and joins each to a new connection
// to target, holding every byte, in each direction, for delay before it
// passes it on: a connection through the relay has a round trip 2 × delay
// longer. At most maxQueued bytes wait in each direction of a connection;
// beyond that the relay stops reading, so that a sender meets back-pressure
// as on a link with that much in flight.
//
// Relay returns when ctx ends (closing ln and every connection) or ln
// fails.
func Relay(ctx context.Context, ln net.Listener, target string, delay time.Duration, maxQueued int) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		in, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			relayConn(ctx, in, target, delay, maxQueued)
		}()
	}
}

// relayConn relays one connection until both directions end.
func relayConn(ctx context.Context, in net.Conn, target string, delay time.Duration, maxQueued int) {
	defer in.Close()
	var d net.Dialer
	out, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return
	}
	defer out.Close()
	stop := context.AfterFunc(ctx, func() {
		in.Close()
		out.Close()
	})
	defer stop()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); delayCopy(out, in, delay, maxQueued) }()
	go func() { defer wg.Done(); delayCopy(in, out, delay, maxQueued) }()
	wg.Wait()
}

// relayChunk is at most this many bytes read at once.
const relayChunk = 32 << 10

// chunk is bytes read at one time, due to be written at another.
type chunk struct {
	data []byte
	due  time.Time
}

// delayQueue holds the chunks of one direction between their read and
// their write. It bounds the bytes it holds, not the chunks: a sender that
// writes in small pieces (a muxer's frames, say) must get as much in flight
// as one that writes in large ones, or the relay would be a narrower link
// than the one it emulates.
type delayQueue struct {
	mu      sync.Mutex
	changed sync.Cond
	chunks  []chunk
	bytes   int
	max     int
	closed  bool // the reader has ended
	failed  bool // the writer has ended: take nothing more
}

func newDelayQueue(max int) *delayQueue {
	q := &delayQueue{max: max}
	q.changed.L = &q.mu
	return q
}

// push adds c once the queue has room for it; a chunk always fits an
// empty queue. It returns false, dropping c, once the writer has failed.
func (q *delayQueue) push(c chunk) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.failed && q.bytes > 0 && q.bytes+len(c.data) > q.max {
		q.changed.Wait()
	}
	if q.failed {
		return false
	}
	q.chunks = append(q.chunks, c)
	q.bytes += len(c.data)
	q.changed.Broadcast()
	return true
}

// pop takes the oldest chunk, waiting for one; ok is false once the queue
// is closed and empty.
func (q *delayQueue) pop() (c chunk, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.chunks) == 0 && !q.closed {
		q.changed.Wait()
	}
	if len(q.chunks) == 0 {
		return chunk{}, false
	}
	c = q.chunks[0]
	q.chunks[0] = chunk{}
	q.chunks = q.chunks[1:]
	q.bytes -= len(c.data)
	q.changed.Broadcast()
	return c, true
}

// close tells pop that no more chunks come.
func (q *delayQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.changed.Broadcast()
}

// fail makes every push from now on return false at once.
func (q *delayQueue) fail() {
	q.mu.Lock()
	q.failed = true
	q.chunks, q.bytes = nil, 0
	q.mu.Unlock()
	q.changed.Broadcast()
}

// delayCopy copies src to dst, each chunk delay after it was read, with at
// most about maxQueued bytes read and not yet written. When src ends it
// half-closes dst; when dst fails it closes src.
func delayCopy(dst, src net.Conn, delay time.Duration, maxQueued int) {
	q := newDelayQueue(maxQueued)
	go func() {
		defer q.close()
		buf := make([]byte, relayChunk)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				data := buf[:n]
				if n < relayChunk/2 {
					// A small read gets its own small copy: the
					// queue would hold a whole buffer for it.
					data = bytes.Clone(data)
				} else {
					buf = make([]byte, relayChunk)
				}
				if !q.push(chunk{data: data, due: time.Now().Add(delay)}) {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for {
		c, ok := q.pop()
		if !ok {
			break // the reader has ended and everything it read is written
		}
		if wait := time.Until(c.due); wait > 0 {
			time.Sleep(wait) // the delay is the point
		}
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			q.fail() // the reader stops at its next chunk or at src's close
			src.Close()
		}
	}
	if tc, ok := dst.(interface{ CloseWrite() error }); ok && !failed {
		if err := tc.CloseWrite(); err != nil && !errors.Is(err, net.ErrClosed) {
			dst.Close()
		}
	}
	if failed {
		dst.Close()
	}
}

// Source serves the link-limit measurement: each connection on ln sends an
// 8-byte big-endian count and gets that many bytes back, then the
// connection closes. It returns when ctx ends or ln fails.
func Source(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	zeros := make([]byte, relayChunk)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			var hdr [8]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			for left := binary.BigEndian.Uint64(hdr[:]); left > 0; {
				n := min(left, uint64(len(zeros)))
				if _, err := c.Write(zeros[:n]); err != nil {
					return
				}
				left -= n
			}
		}()
	}
}

// Fetch asks the Source at addr for n bytes and returns how long it took
// from the dial until the last byte arrived.
func Fetch(ctx context.Context, addr string, n uint64) (time.Duration, error) {
	start := time.Now()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], n)
	if _, err := c.Write(hdr[:]); err != nil {
		return 0, err
	}
	got, err := io.Copy(io.Discard, io.LimitReader(c, int64(n)))
	if err != nil {
		return 0, err
	}
	if uint64(got) != n {
		return 0, fmt.Errorf("netsim: fetch from %s: got %d of %d bytes", addr, got, n)
	}
	return time.Since(start), nil
}
