package netsim

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

const sampleNetDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:   12345      67    0    0    0     0          0         0    12345      67    0    0    0     0       0          0
  eth0: 70123456789 5123456    0    3    0     0          0        12 1234567  23456    0    0    0     0       0          0
`

func TestParseNetDev(t *testing.T) {
	c, err := ParseNetDev([]byte(sampleNetDev), "eth0")
	if err != nil {
		t.Fatal(err)
	}
	want := LinkCounters{RxBytes: 70123456789, RxPackets: 5123456, TxBytes: 1234567, TxPackets: 23456}
	if c != want {
		t.Fatalf("eth0: got %+v, want %+v", c, want)
	}
	lo, err := ParseNetDev([]byte(sampleNetDev), "lo")
	if err != nil || lo.RxBytes != 12345 || lo.TxPackets != 67 {
		t.Fatalf("lo: got %+v, %v", lo, err)
	}
	if d := c.Sub(LinkCounters{RxBytes: 123456789, TxBytes: 67}); d.RxBytes != 70000000000 || d.TxBytes != 1234500 {
		t.Fatalf("Sub: got %+v", d)
	}
}

func TestParseNetDevErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"missing", sampleNetDev, "no interface eth1"},
		{"short", "eth1: 1 2 3\n", "3 fields"},
		{"garbage", "eth1: 1 x 0 0 0 0 0 0 4 5 0 0 0 0 0 0\n", "field 2"},
		{"prefix is not a match", "eth10: 1 2 0 0 0 0 0 0 4 5 0 0 0 0 0 0\n", "no interface eth1"},
	} {
		_, err := ParseNetDev([]byte(tc.data), "eth1")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// TestCountersAndDialInsideNamespaces sends bytes from node 0 to node 1
// over the emulated network, dialling from inside node 0's namespace: node
// 1's link counts them, and node 1's loopback is reachable from its own
// namespace only.
func TestCountersAndDialInsideNamespaces(t *testing.T) {
	needNetns(t)
	ctx := context.Background()
	n, err := Setup(ctx, Config{Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	var ln net.Listener
	if err := InNamespace(n.Namespace(1), func() error {
		var err error
		ln, err = net.Listen("tcp", "0.0.0.0:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			received <- -1
			return
		}
		defer c.Close()
		got, _ := io.Copy(io.Discard, c)
		received <- got
	}()

	before, err := n.Counters(1)
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	conn, err := n.DialContext(0)(ctx, "tcp", net.JoinHostPort(n.Addr(1).String(), strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	const payload = 1 << 20
	if _, err := conn.Write(make([]byte, payload)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if got := <-received; got != payload {
		t.Fatalf("node 1 received %d bytes, want %d", got, payload)
	}
	after, err := n.Counters(1)
	if err != nil {
		t.Fatal(err)
	}
	d := after.Sub(before)
	// The payload, plus TCP/IP and Ethernet headers of every segment.
	if d.RxBytes < payload || d.RxBytes > payload*11/10 {
		t.Errorf("node 1's link received %d bytes for a %d-byte payload", d.RxBytes, payload)
	}
	// Node 1's listener on its loopback is not node 0's.
	if c, err := n.DialContext(0)(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		c.Close()
		t.Errorf("dialled node 1's port on node 0's loopback")
	}
}
