package orderstore

import "time"

// MemoryOption configures a Memory (see NewMemory).
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	expiry   bool
	margin   time.Duration
	now      func() time.Time
	capacity int
}

// WithExpiry makes the store drop expired orders itself: orders whose
// expiration time is within margin of the clock (see Expiry). It refuses
// them in AddOrders, never returns them, and removes them, reporting each
// on the change feed as ChangeExpired: on access, and in the background
// within about a second of their expiry, so that the store must be
// closed. A negative margin counts as 0.
func WithExpiry(margin time.Duration) MemoryOption {
	return func(c *memoryConfig) { c.expiry, c.margin = true, max(margin, 0) }
}

// WithClock sets the clock expiry is judged by (time.Now by default), so
// that tests can move time. It matters only with WithExpiry.
func WithClock(now func() time.Time) MemoryOption {
	return func(c *memoryConfig) { c.now = now }
}

// WithCapacity bounds the store to n orders (see Capped for what happens
// when it is full, Pinner for the orders it keeps first). n < 1 means no
// bound, the default.
func WithCapacity(n int) MemoryOption {
	return func(c *memoryConfig) { c.capacity = max(n, 0) }
}
