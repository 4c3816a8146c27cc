// Package paging is the engine the pagination subprotocols and reconcile
// share: the Pager, which serves pages of a store's orders after a cursor
// (Serve, within a scan budget and the process's scan slots) and takes in
// the pages a provider sends through the requester's validation pipeline
// (Accept, AcceptLane), with the lanes a sync spreads into (SplitLanes,
// Lane, LaneMetadata), and the Options that configure it.
//
// It is internal to the subprotocols: package pagination is what a user
// writing a new pagination version needs (Codec, New, its Options, errors
// and PeerScorer), and its documentation describes the pipeline, cursors,
// lanes and scores this package implements.
package paging
