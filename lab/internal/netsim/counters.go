package netsim

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// LinkCounters are an interface's totals as the kernel counts them: every
// frame that crossed it, whatever protocol it carried (TCP/IP and Ethernet
// headers, Noise, yamux, identify, ordersync or GossipSub alike).
type LinkCounters struct {
	RxBytes, RxPackets int64
	TxBytes, TxPackets int64
}

// Sub returns the counts between earlier and c.
func (c LinkCounters) Sub(earlier LinkCounters) LinkCounters {
	return LinkCounters{
		RxBytes: c.RxBytes - earlier.RxBytes, RxPackets: c.RxPackets - earlier.RxPackets,
		TxBytes: c.TxBytes - earlier.TxBytes, TxPackets: c.TxPackets - earlier.TxPackets,
	}
}

// ParseNetDev reads dev's counters from the text of /proc/net/dev: two
// header lines, then "dev: rx_bytes rx_packets errs drop fifo frame
// compressed multicast tx_bytes tx_packets ...", one line per interface.
func ParseNetDev(data []byte, dev string) (LinkCounters, error) {
	for _, line := range bytes.Split(data, []byte("\n")) {
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(bytes.TrimSpace(name)) != dev {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 10 {
			return LinkCounters{}, fmt.Errorf("netsim: /proc/net/dev: %s has %d fields, want 16", dev, len(f))
		}
		var v [4]int64
		for k, col := range []int{0, 1, 8, 9} {
			n, err := strconv.ParseInt(string(f[col]), 10, 64)
			if err != nil {
				return LinkCounters{}, fmt.Errorf("netsim: /proc/net/dev: %s field %d: %w", dev, col+1, err)
			}
			v[k] = n
		}
		return LinkCounters{RxBytes: v[0], RxPackets: v[1], TxBytes: v[2], TxPackets: v[3]}, nil
	}
	return LinkCounters{}, fmt.Errorf("netsim: /proc/net/dev has no interface %s", dev)
}

// NodeDevice is the name of every node's link inside its namespace.
const NodeDevice = "eth0"

// Counters returns the counters of node i's link (NodeDevice in its
// namespace): everything the node received and sent, over every
// connection, dialled or accepted.
func (n *Net) Counters(i int) (LinkCounters, error) {
	var c LinkCounters
	err := InNamespace(n.nodes[i], func() error {
		// /proc/thread-self/net is the calling thread's namespace, unlike
		// /sys/class/net, which is the namespace /sys was mounted in.
		data, err := os.ReadFile("/proc/thread-self/net/dev")
		if err != nil {
			return err
		}
		c, err = ParseNetDev(data, NodeDevice)
		return err
	})
	return c, err
}

// DialContext dials addr from inside node i's namespace: the connection
// belongs to that namespace (a socket stays in the namespace it was made
// in), so 127.0.0.1 is the node's own loopback and nothing of it crosses
// the node's link.
func (n *Net) DialContext(i int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := InNamespace(n.nodes[i], func() error {
			var d net.Dialer
			var err error
			conn, err = d.DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
}

// InNamespace runs f on an OS thread that has entered network namespace
// ns, and puts the thread back in its own namespace afterwards. Should
// that fail, the thread is never given back to the Go runtime, so no other
// goroutine ever runs in ns by accident.
func InNamespace(ns string, f func() error) error {
	target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netsim: namespace %s: %w", ns, err)
	}
	defer unix.Close(target)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netsim: this thread's namespace: %w", err)
			return
		}
		defer unix.Close(own)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netsim: entering namespace %s: %w", ns, err)
			return
		}
		err = f()
		if unix.Setns(own, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the thread ends with this goroutine, still locked
		done <- err
	}()
	return <-done
}
