package news

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ordersync/ordersync/testing/testnet"
)

// TestStallMidMessageResets: a peer that begins a message and stops
// sending loses its stream after messageTimeout, instead of holding the
// stream, a goroutine and the message's reserved memory for good.
func TestStallMidMessageResets(t *testing.T) {
	before := messageTimeout
	messageTimeout = 200 * time.Millisecond
	t.Cleanup(func() { messageTimeout = before })

	hosts := testnet.New(t, 2)
	startNews(t, hosts[0], nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := hosts[1].NewStream(ctx, hosts[0].ID(), ID)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	// An announcement of two hashes (64 bytes), of which 10 come.
	if _, err := s.Write(append([]byte{kindAnnounce, 64}, make([]byte, 10)...)); err != nil {
		t.Fatal(err)
	}
	// The bound only keeps a failing test from hanging: the node resets
	// the stream long before it.
	_ = s.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = s.Read(make([]byte, 1))
	var timeout net.Error
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &timeout) && timeout.Timeout() {
		t.Fatalf("read after stalling mid-message: %v; want the stream reset by the node", err)
	}
}
