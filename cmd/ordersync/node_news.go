package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/subprotocols/news"
)

// startNews runs the news protocol beside service, unless --no-news or
// --serve-only says not to, and returns what stops it, which writes what
// news did on stderr:
//
//	node: news: pushed P, pushed in I, duplicates U, announced A, received R, fetched F, served S, pruned X, grafted G, dropped D, bulk B, timeouts T, missed M
//
// A store without a change feed runs without news, saying so.
func startNews(ctx context.Context, cfg *nodeConfig, service *ordersync.Service, node ordersync.Node, store orderstore.Store, stderr io.Writer) (stop func()) {
	if cfg.noNews || cfg.serveOnly {
		return func() {}
	}
	n, err := news.New(ctx, service, node, store, nil)
	if err != nil {
		cfg.log.Warnf("node: running without news: %v", err)
		return func() {}
	}
	return func() {
		_ = n.Close()
		st := n.Stats()
		fmt.Fprintf(stderr, "node: news: pushed %d, pushed in %d, duplicates %d, announced %d, received %d, fetched %d, served %d, pruned %d, grafted %d, dropped %d, bulk %d, timeouts %d, missed %d\n",
			st.Pushed, st.PushedIn, st.Duplicates, st.Announced, st.Received, st.Fetched, st.Served, st.Pruned, st.Grafted, st.Dropped, st.Bulk, st.Timeouts, st.Missed)
	}
}
