package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ordersync/ordersync/internal/p2phost"
	"github.com/ordersync/ordersync/internal/wire"
	"github.com/ordersync/ordersync/subprotocols/filteredpagination"
	"github.com/ordersync/ordersync/zeroex"
)

// benchTransportID is the protocol of the transport measurement's stream:
// not ordersync's, so that nothing but our reader handles it.
const benchTransportID = protocol.ID("/ordersync-bench/transport/0")

// encodePages returns the messages a provider of the order-hash cursor
// subprotocol writes to serve orders (sorted by hash) perPage at a time:
// each page, then the empty complete one, each a JSON object and a newline.
func encodePages(orders []*zeroex.SignedOrder, perPage int) ([][]byte, error) {
	enc, err := wire.NewResponseEncoder([]string{filteredpagination.Name})
	if err != nil {
		return nil, err
	}
	var pages [][]byte
	for start := 0; ; start = min(start+perPage, len(orders)) {
		end := min(start+perPage, len(orders))
		complete := start >= len(orders)
		var next filteredpagination.ResponseMetadata
		if end > start {
			h, err := orders[end-1].ComputeOrderHash()
			if err != nil {
				return nil, fmt.Errorf("order %d: %w", end-1, err)
			}
			next.NextMinOrderHash = h
		}
		msg, err := enc.Append(nil, filteredpagination.Name, orders[start:end], complete, next)
		if err != nil {
			return nil, fmt.Errorf("page at order %d: %w", start, err)
		}
		pages = append(pages, append(msg, '\n'))
		if complete {
			return pages, nil
		}
	}
}

// transportResult is how fast one stream carried the pages.
type transportResult struct {
	bytes   int64
	elapsed time.Duration
}

// measureTransport pushes pages over one stream between two fresh hosts on
// loopback (the sync's transport, security and muxer), one write per page
// as a provider writes them, and times it until the reader has read the
// last byte.
func measureTransport(ctx context.Context, pages [][]byte) (transportResult, error) {
	sender, err := p2phost.New(p2phost.Loopback())
	if err != nil {
		return transportResult{}, err
	}
	defer sender.Close()
	receiver, err := p2phost.New(p2phost.Loopback())
	if err != nil {
		return transportResult{}, err
	}
	defer receiver.Close()

	type readResult struct {
		n   int64
		at  time.Time
		err error
	}
	done := make(chan readResult, 1)
	receiver.SetStreamHandler(benchTransportID, func(s network.Stream) {
		n, err := io.Copy(io.Discard, s)
		at := time.Now()
		_ = s.Close()
		done <- readResult{n, at, err}
	})
	if err := p2phost.Connect(ctx, sender, receiver); err != nil {
		return transportResult{}, err
	}
	s, err := sender.NewStream(ctx, receiver.ID(), benchTransportID)
	if err != nil {
		return transportResult{}, fmt.Errorf("transport stream: %w", err)
	}
	defer s.Reset()

	var total int64
	start := time.Now()
	for _, p := range pages {
		if _, err := s.Write(p); err != nil {
			return transportResult{}, fmt.Errorf("transport stream write: %w", err)
		}
		total += int64(len(p))
	}
	if err := s.CloseWrite(); err != nil {
		return transportResult{}, fmt.Errorf("transport stream close: %w", err)
	}
	select {
	case r := <-done:
		if r.err != nil {
			return transportResult{}, fmt.Errorf("transport stream read: %w", r.err)
		}
		if r.n != total {
			return transportResult{}, fmt.Errorf("transport stream: read %d bytes of %d", r.n, total)
		}
		return transportResult{bytes: total, elapsed: r.at.Sub(start)}, nil
	case <-ctx.Done():
		return transportResult{}, ctx.Err()
	}
}
