package news

import (
	"sync"
	"time"
)

// News is for a node that is current: orders arriving one by one. A node
// that takes in orders by the hundred a second is catching up through its
// syncs (a first sync, a peer back after a while), and so are its
// neighbours, most likely; announcing or fetching those orders by news
// would only fetch again what the syncs fetch. While the store takes in
// more than the bulk rate (WithBulkRate), a News neither announces nor
// fetches; the syncs carry everything, as without news.

// bulkSlots is how many slots of the last second the rate is counted in.
const bulkSlots = 4

// bulkMeter counts the store's new orders over the last second.
type bulkMeter struct {
	mu    sync.Mutex
	limit int // orders a second above which the store is in bulk
	slots [bulkSlots]int
	start time.Time // when slots[cur] began
	cur   int
}

const bulkSlot = time.Second / bulkSlots

// advance moves the meter to now, emptying the slots that passed. m.mu is
// held.
func (m *bulkMeter) advance(now time.Time) {
	if m.start.IsZero() {
		m.start = now
		return
	}
	for steps := 0; now.Sub(m.start) >= bulkSlot && steps <= bulkSlots; steps++ {
		m.start = m.start.Add(bulkSlot)
		m.cur = (m.cur + 1) % bulkSlots
		m.slots[m.cur] = 0
	}
	if now.Sub(m.start) >= bulkSlot {
		m.start = now // idle for longer than a second
	}
}

// add counts n new orders at now.
func (m *bulkMeter) add(now time.Time, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	m.slots[m.cur] += n
}

// bulk reports whether the store took in more than the limit over the
// last second.
func (m *bulkMeter) bulk(now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance(now)
	sum := 0
	for _, n := range m.slots {
		sum += n
	}
	return sum > m.limit
}
