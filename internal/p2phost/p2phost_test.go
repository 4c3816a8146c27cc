package p2phost

import (
	"context"
	"testing"
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
