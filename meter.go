package ordersync

// This file is byte metering: the stream readers and writers count bytes
// in running totals; Stats and the tracer take them message by message.

// meter turns a running byte total into the increments since last asked,
// so that Stats move message by message.
type meter struct{ last int64 }

func (m *meter) since(total int64) int64 {
	d := total - m.last
	m.last = total
	return d
}
