package news

import (
	"sync"
	"time"
)

// How long an announced order is given to come by a push adapts to how far
// pushes run behind announcements on this node, as TCP's retransmission
// timeout adapts to round trips (RFC 6298): a smoothed lag plus four times
// its deviation, within bounds. Each sample is an order announced to the
// node and then pushed to it: how long after the announcement the push
// came. A push that comes after the order was fetched is a sample too, so
// that waits that were too short are seen.
const (
	minGraftWait = 250 * time.Millisecond
	maxGraftWait = 3 * time.Second
)

// lagMeter estimates the wait for pushes from samples of their lag.
type lagMeter struct {
	mu       sync.Mutex
	smoothed time.Duration
	dev      time.Duration
	samples  int
}

// add takes one push's lag behind its announcement.
func (m *lagMeter) add(lag time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.samples == 0 {
		m.smoothed, m.dev = lag, lag/2
	} else {
		diff := m.smoothed - lag
		if diff < 0 {
			diff = -diff
		}
		m.dev = (3*m.dev + diff) / 4
		m.smoothed = (7*m.smoothed + lag) / 8
	}
	m.samples++
}

// wait is how long to give announced orders to come by a push.
func (m *lagMeter) wait() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.samples == 0 {
		return graftWait
	}
	return min(max(m.smoothed+4*m.dev, minGraftWait), maxGraftWait)
}
