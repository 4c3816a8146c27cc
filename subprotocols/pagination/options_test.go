package pagination

import (
	"testing"

	"github.com/ordersync/ordersync/subprotocols/internal/paging"
)

// The defaults this package documents are the engine's.
func TestDefaultsAreTheEngines(t *testing.T) {
	if DefaultPerPage != paging.DefaultPerPage || MaxPerPage != paging.MaxPerPage ||
		DefaultMaxScan != paging.DefaultMaxScan || DefaultMaxScanTime != paging.DefaultMaxScanTime {
		t.Errorf("pagination's defaults (%d, %d, %d, %v) differ from paging's (%d, %d, %d, %v)",
			DefaultPerPage, MaxPerPage, DefaultMaxScan, DefaultMaxScanTime,
			paging.DefaultPerPage, paging.MaxPerPage, paging.DefaultMaxScan, paging.DefaultMaxScanTime)
	}
}
