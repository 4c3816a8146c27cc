package meshrpc

import (
	"strconv"
	"time"

	"github.com/ordersync/ordersync/orderstore"
)

// GetStats is mesh_getStats: what this node knows of what Mesh reported.
// Mesh's pubSubTopic and rendezvous are "" (the node joins no pubsub topic
// and no DHT rendezvous); numOrdersIncludingRemoved equals numOrders (it
// keeps no removed orders); the chain's fields are neutral (see the
// package doc).
func (a *api) GetStats() (*stats, error) {
	s := a.s
	held := s.cfg.Held()
	st := &stats{
		Version:                   s.cfg.Version,
		SecondaryRendezvous:       []string{},
		PeerID:                    s.cfg.Host.ID().String(),
		EthereumChainID:           s.cfg.Filter.ChainID(),
		LatestBlock:               latestBlock{Number: 0, Hash: zeroHash},
		NumPeers:                  len(s.cfg.Host.Network().Peers()),
		NumOrders:                 held,
		NumOrdersIncludingRemoved: held,
		MaxExpirationTime:         unlimitedExpiration,
		StartOfCurrentUTCDay:      s.cfg.Now().UTC().Truncate(24 * time.Hour),
	}
	if m, ok := s.cfg.Store.(interface{ Stats() orderstore.MemoryStats }); ok {
		st.NumPinnedOrders = m.Stats().Pinned
	}
	if t, ok := s.maxExpiration(); ok {
		st.MaxExpirationTime = strconv.FormatInt(t.Unix(), 10)
	}
	return st, nil
}
