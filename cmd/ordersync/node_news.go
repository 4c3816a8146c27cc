package main

import (
	"context"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/news"
)

// startNews runs the news protocol beside service, unless --no-news or
// --serve-only says not to, and returns what stops it. A store without a
// change feed runs without news, saying so.
func startNews(ctx context.Context, cfg *nodeConfig, service *ordersync.Service, node ordersync.Node, store orderstore.Store) (stop func()) {
	if cfg.noNews || cfg.serveOnly {
		return func() {}
	}
	n, err := news.New(ctx, service, node, store, nil)
	if err != nil {
		cfg.log.Warnf("node: running without news: %v", err)
		return func() {}
	}
	return func() { _ = n.Close() }
}
