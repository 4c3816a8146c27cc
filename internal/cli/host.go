package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/sirupsen/logrus"
)

// PrintAddrs writes each address h listens on as a full peer address
// (/ip4/.../tcp/N/p2p/ID), one per line, which sync --peer takes as it is.
func PrintAddrs(w io.Writer, h host.Host) error {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("host listens on no address")
	}
	for _, a := range addrs {
		if _, err := fmt.Fprintln(w, a); err != nil {
			return err
		}
	}
	return nil
}

// ConnectPeers dials every peer at once. It fails when fewer than minPeers
// can be reached, naming each failure; otherwise it logs the failures and
// goes on with the peers it reached.
func ConnectPeers(ctx context.Context, h host.Host, peers []peer.AddrInfo, minPeers int, log logrus.FieldLogger) error {
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, ai := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Connect(ctx, ai); err != nil {
				errs[i] = fmt.Errorf("cannot reach peer %s at %v: %w", ai.ID, ai.Addrs, err)
			}
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	switch reachable := len(peers) - len(failed); {
	case reachable >= minPeers:
		for _, err := range failed {
			log.Warn(err)
		}
		return nil
	case len(failed) == 1:
		return failed[0]
	default:
		return fmt.Errorf("reached %d of %d peers, need %d: %w", reachable, len(peers), minPeers, errors.Join(failed...))
	}
}
