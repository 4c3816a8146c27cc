package meshrpc

import (
	"context"
	"net"
	"sync"

	"github.com/ethereum/go-ethereum/rpc"
)

// connTracker knows the server's open connections by remote address, the
// key go-ethereum's rpc gives a method (rpc.PeerInfo), so that a method can
// count what one connection holds and close it to drop a slow subscriber.
type connTracker struct {
	mu    sync.Mutex
	conns map[string]*connState
}

// connState is one connection and what it holds.
type connState struct {
	conn          net.Conn
	subscriptions int
}

func newConnTracker() *connTracker { return &connTracker{conns: make(map[string]*connState)} }

// connKey is the key of the connection a call came on.
func connKey(ctx context.Context) string { return rpc.PeerInfoFromContext(ctx).RemoteAddr }

// add registers c, and reports false when max connections are open.
func (t *connTracker) add(c net.Conn, max int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.conns) >= max {
		return false
	}
	t.conns[c.RemoteAddr().String()] = &connState{conn: c}
	return true
}

func (t *connTracker) remove(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := c.RemoteAddr().String()
	if st, ok := t.conns[key]; ok && st.conn == c {
		delete(t.conns, key)
	}
}

// addSubscription counts a subscription on key's connection, and reports
// false when it has max already.
func (t *connTracker) addSubscription(key string, max int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.conns[key]
	if !ok {
		return false // the connection is gone
	}
	if st.subscriptions >= max {
		return false
	}
	st.subscriptions++
	return true
}

func (t *connTracker) removeSubscription(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.conns[key]; ok && st.subscriptions > 0 {
		st.subscriptions--
	}
}

// drop closes key's connection: every call and subscription on it ends.
func (t *connTracker) drop(key string) {
	t.mu.Lock()
	st, ok := t.conns[key]
	t.mu.Unlock()
	if ok {
		_ = st.conn.Close()
	}
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	conns := make([]net.Conn, 0, len(t.conns))
	for _, st := range t.conns {
		conns = append(conns, st.conn)
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// trackingListener registers every connection it accepts with t until the
// connection is closed, and closes at once those beyond max.
type trackingListener struct {
	net.Listener
	t   *connTracker
	max int
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.t.add(c, l.max) {
			return &trackedConn{Conn: c, t: l.t}, nil
		}
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.remove(c.Conn) })
	return c.Conn.Close()
}
