package news

import (
	"testing"

	"go.uber.org/goleak"
)

// A News starts goroutines for its links, fetches and feed; none may
// outlive Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
