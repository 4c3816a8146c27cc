package paging

import (
	"testing"

	"go.uber.org/goleak"
)

// The pipeline starts goroutines for every page; none may outlive it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
