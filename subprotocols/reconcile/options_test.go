package reconcile

import (
	"strings"
	"testing"
	"time"

	"github.com/ordersync/ordersync/subprotocols/pagination"
)

// Every option refuses a value out of its range with an error that names
// it, rather than putting a default in its place; and reconcile has one
// scan budget, so pagination's cannot be passed through to its pipeline.
func TestOptionsRefuseOutOfRange(t *testing.T) {
	if err := CheckOptions(WithMaxScan(10, time.Second), WithAnswerRate(-1, 0),
		WithRejectedHashes(0, time.Minute), WithPagination(pagination.WithPerPage(10))); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{WithMaxDifferences(0), "max differences 0"},
		{WithMaxRounds(-1), "max rounds -1"},
		{WithMaxScan(0, time.Second), "max scan 0 orders"},
		{WithMaxScan(10, 0), "max scan time 0s"},
		{WithRejectedHashes(-1, time.Hour), "rejected hashes -1"},
		{WithRejectedHashes(10, 0), "kept for 0s"},
		{WithAnswerRate(0, MinAnswerBurst), "answer rate 0"},
		{WithAnswerRate(1000, MinAnswerBurst-1), "answer burst"},
		{WithPeerScorer(nil), "peer scorer"},
		{WithPagination(pagination.WithPerPage(0)), "per page 0"},
		{WithPagination(pagination.WithMaxScan(10, time.Second)), "one scan budget"},
	} {
		err := CheckOptions(tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckOptions: %v, want an error naming %q", err, tc.want)
		}
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("New accepted an invalid option")
		}
	}()
	New(nil, nil, WithMaxRounds(0))
}
