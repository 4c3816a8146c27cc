package ordersync

import "github.com/libp2p/go-libp2p/core/network"

// reservation is the memory a stream's message reader took from libp2p's
// resource manager, given back by release.
type reservation struct {
	scope network.StreamScope
	n     int
}

// reserve takes n more bytes. Priority Always: the Service bounds each
// message itself, and the resource manager's limits still apply.
func (r *reservation) reserve(n int) error {
	if err := r.scope.ReserveMemory(n, network.ReservationPriorityAlways); err != nil {
		return err
	}
	r.n += n
	return nil
}

// give gives back n bytes of what reserve took.
func (r *reservation) give(n int) {
	r.scope.ReleaseMemory(n)
	r.n -= n
}

func (r *reservation) release() {
	r.scope.ReleaseMemory(r.n)
	r.n = 0
}
