package p2phost

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

func TestLoopbackHost(t *testing.T) {
	h, err := New(Loopback())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if len(h.Addrs()) == 0 {
		t.Fatal("host listens on no address")
	}
	for _, a := range h.Addrs() {
		if ip, err := a.ValueForProtocol(4); err != nil || ip != "127.0.0.1" {
			t.Errorf("address %s: want one on 127.0.0.1", a)
		}
	}
	// The no-op manager forgets tags; the real one keeps them.
	h.ConnManager().TagPeer(h.ID(), "test/tag", 7)
	if info := h.ConnManager().GetTagInfo(h.ID()); info == nil || info.Tags["test/tag"] != 7 {
		t.Errorf("tag info %+v: no real connection manager", info)
	}
}

// A host given no address only dials out, and reaches a loopback host.
func TestDialOnlyHostConnects(t *testing.T) {
	dialer, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer dialer.Close()
	if addrs := dialer.Addrs(); len(addrs) != 0 {
		t.Errorf("dial-only host listens on %v", addrs)
	}
	listener, err := New(Loopback())
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	if err := Connect(context.Background(), dialer, listener); err != nil {
		t.Fatal(err)
	}
	if len(dialer.Network().ConnsToPeer(listener.ID())) == 0 {
		t.Fatal("no connection after Connect")
	}
}

// writeUnread writes n bytes from a fresh host to one built with opts, on a
// stream whose reader reads nothing, and reports how many went before the
// write gave up at deadline.
func writeUnread(t *testing.T, n int, deadline time.Duration, opts ...Option) (int, error) {
	t.Helper()
	receiver, err := New(append([]Option{Loopback()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer receiver.Close()
	sender, err := New(Loopback())
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	const proto = "/p2phost-test/window"
	release := make(chan struct{})
	defer close(release)
	receiver.SetStreamHandler(proto, func(s network.Stream) {
		<-release // read nothing until the test ends
		s.Reset()
	})
	ctx := context.Background()
	if err := Connect(ctx, sender, receiver); err != nil {
		t.Fatal(err)
	}
	s, err := sender.NewStream(ctx, receiver.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	if err := s.SetWriteDeadline(time.Now().Add(deadline)); err != nil {
		t.Fatal(err)
	}
	return s.Write(make([]byte, n))
}

// A peer may send a whole StreamWindow on a new stream before its reader
// reads; with WithStreamWindow(0), only yamux's 256 KiB.
func TestStreamWindow(t *testing.T) {
	// Generous: the write either fits the window at once or waits for a
	// read that never comes.
	n := StreamWindow - 64<<10
	if wrote, err := writeUnread(t, n, 10*time.Second); err != nil {
		t.Fatalf("wrote %d of %d bytes to a stream whose reader had read nothing: %v", wrote, n, err)
	}
	// The write must stop at yamux's window and wait out the deadline.
	n = yamuxWindow + 64<<10
	if wrote, err := writeUnread(t, n, time.Second, WithStreamWindow(0)); err == nil || wrote > yamuxWindow {
		t.Fatalf("with yamux's window, wrote %d of %d bytes unread (error %v); want at most %d", wrote, n, err, yamuxWindow)
	}
}
