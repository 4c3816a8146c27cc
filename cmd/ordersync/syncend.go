package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
)

// errNothingReceived ends a sync in which every peer has finished a whole
// sync without sending a valid order.
var errNothingReceived = errors.New("nothing received: every peer finished a sync without a valid order")

// nothingPollInterval is how often giveUpIfNothingComes looks at the
// service's stats.
const nothingPollInterval = 200 * time.Millisecond

// giveUpIfNothingComes calls giveUp(errNothingReceived) once every peer has
// completed a sync that delivered no valid order. GetOrders would go on
// asking them, with backoff, as a node that waits for orders should; a
// one-shot command has nothing to wait for.
func giveUpIfNothingComes(ctx context.Context, service *ordersync.Service, peers []peer.AddrInfo, giveUp context.CancelCauseFunc) {
	tick := time.NewTicker(nothingPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		st := service.Stats()
		empty := 0
		for _, ai := range peers {
			// ErrNoOrdersFromPeer is the only error that says a peer
			// answered in full with nothing.
			if ps, ok := st.Providers[ai.ID]; ok && ps.Orders == 0 && errors.Is(ps.Err, ordersync.ErrNoOrdersFromPeer) {
				empty++
			}
		}
		if empty == len(peers) {
			giveUp(errNothingReceived)
			return
		}
	}
}

// explainSyncError turns GetOrders's error into one line that says what
// happened, with the peers' own errors, which GetOrders does not return.
func explainSyncError(ctx context.Context, err error, res *syncOutcome, cfg *syncConfig, written int) error {
	var what string
	switch {
	case errors.Is(err, errNothingReceived):
		what = "gave up"
	case ctx.Err() != nil:
		what = "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		what = fmt.Sprintf("timed out after %v", cfg.timeout)
	default:
		what = err.Error()
	}
	var peerErrs string
	for _, ai := range res.peers {
		ps, ok := res.stats.Providers[ai.ID]
		switch {
		case !ok:
			peerErrs += fmt.Sprintf("; peer %s: no sync started", ai.ID)
		case ps.LastError != "":
			peerErrs += fmt.Sprintf("; peer %s: %s", ai.ID, ps.LastError)
		}
	}
	if errors.Is(err, ordersync.ErrNoOrders) || written == 0 {
		return fmt.Errorf("%s: nothing received%s", what, peerErrs)
	}
	dest := "written to " + cfg.out
	if cfg.out == "" {
		dest = "held in " + res.db
	}
	return fmt.Errorf("%s: %d of %d required peers synced, %d orders %s%s", what, res.synced(), cfg.minPeers, written, dest, peerErrs)
}
