package orderfilter

import (
	"container/list"
	"sync"
)

// parseCacheSize is how many compiled filters Parse keeps. A provider serves
// a handful of peers at a time, each with one filter for a whole sync.
const parseCacheSize = 64

// Parse makes the Filter that data (a filter's wire JSON) describes, as
// UnmarshalJSON does, with a cache: the same bytes give the same *Filter,
// compiled once. A provider receives its requester's
// filter in every request of a sync (hundreds of pages), so recompiling it
// each time would cost more than serving the page. The returned Filter is
// shared: use it, do not UnmarshalJSON into it. Failures are not cached.
func Parse(data []byte) (*Filter, error) {
	if f := parsed.get(data); f != nil {
		return f, nil
	}
	f, err := decode(data)
	if err != nil {
		return nil, err
	}
	parsed.put(data, f)
	return f, nil
}

// parsed is Parse's cache.
var parsed = newLRU(parseCacheSize)

// lru is a small least-recently-used cache of filters keyed by their exact
// JSON bytes.
type lru struct {
	mu      sync.Mutex
	size    int
	order   *list.List // of *lruEntry, most recently used first
	entries map[string]*list.Element
}

type lruEntry struct {
	key    string
	filter *Filter
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), entries: make(map[string]*list.Element, size)}
}

func (c *lru) get(key []byte) *Filter {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(key)] // no allocation for the lookup
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).filter
}

// put adds f under key, evicting the least recently used entry when full.
// Two goroutines may compile the same new filter at once; the later put
// simply refreshes the entry.
func (c *lru) put(key []byte, f *Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[string(key)]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.entries[string(key)] = c.order.PushFront(&lruEntry{key: string(key), filter: f})
	if c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*lruEntry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
