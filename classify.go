package ordersync

import (
	"context"
	"errors"
	"net"
	"os"

	"github.com/ordersync/ordersync/internal/wire/framing"
)

// This file says what a failure was: whose fault a failed message read is
// (classifyRead), and how a sync ended, for the tracer (syncResult).
// Scoring the peer for it is score.go's.

// pageError is an error of the subprotocol's HandleOrderSyncResponse, so
// that syncResult can tell it from a broken stream.
type pageError struct{ error }

func (e pageError) Unwrap() error { return e.error }

// syncResult classifies how a sync ended, for the MetricsTracer.
func syncResult(ctx context.Context, err error) SyncResult {
	var pe pageError
	switch {
	case err == nil:
		return SyncOK
	case ctx.Err() != nil:
		return SyncCanceled
	case errors.Is(err, ErrStore):
		return SyncStoreError
	case errors.Is(err, ErrNoOrdersFromPeer):
		return SyncNoOrders
	case errors.Is(err, ErrInvalidMessage), errors.Is(err, ErrMessageTooLarge):
		return SyncInvalidMessage
	case errors.Is(err, ErrTooManyPages), errors.Is(err, ErrTooManyOrders):
		return SyncCutOff
	case errors.As(err, &pe), errors.Is(err, ErrPipelineMismatch):
		return SyncRejectedPage
	case isTimeout(err):
		return SyncTimeout
	}
	return SyncStreamError
}

// classifyRead says whose fault a message read that failed with err (not
// io.EOF) was.
func classifyRead(err error) readFault {
	switch {
	case errors.Is(err, framing.ErrTooLarge):
		return readTooLarge
	case errors.Is(err, framing.ErrNotObject), errors.Is(err, framing.ErrMalformed), errors.Is(err, framing.ErrTooDeep):
		return readInvalid
	case isTimeout(err):
		return readTimeout
	}
	return readOther
}

// readFault is who is to blame for a failed message read.
type readFault int

// isTimeout says whether err is a stream deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
