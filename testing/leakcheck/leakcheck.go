// Package leakcheck checks that a test, or one part of it, leaves no
// goroutine running, with go-libp2p hosts in play.
//
// A check has two ends. Start waits until every go-libp2p host started so
// far has started all its goroutines (see WaitHostsStarted), then records
// the goroutines running now. Verify closes what the part started, hosts
// above all, and fails the test if a goroutine that was not running at
// Start is still running; goleak retries for a while before it fails, so
// goroutines that are on their way out do not count.
//
// Taking the baseline only once the hosts have started, and closing hosts
// before looking, is what makes the check exact: nothing that belongs to a
// host still open can appear after the baseline, and nothing of a closed
// host is left to find.
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package leakcheck

import (
	"io"
	"testing"

	"go.uber.org/goleak"
)

// Check is the goroutine baseline of one part of a test.
type Check struct {
	ignore goleak.Option
}

// Start waits for started hosts to settle and records the goroutines
// running now.
func Start(t testing.TB) *Check {
	t.Helper()
	WaitHostsStarted(t)
	return &Check{ignore: goleak.IgnoreCurrent()}
}

// Verify closes each of closers in order (a close error is logged, not
// fatal: the leak check is what matters here), then fails t if a goroutine
// started since Start is still running.
func (c *Check) Verify(t testing.TB, closers ...io.Closer) {
	t.Helper()
	for _, cl := range closers {
		if err := cl.Close(); err != nil {
			t.Logf("leakcheck: close: %v", err)
		}
	}
	goleak.VerifyNone(t, c.ignore)
}
