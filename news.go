package ordersync

// A companion protocol that takes in orders outside a sync (package
// subprotocols/news announces new orders to neighbours and fetches theirs)
// must check, count and claim them exactly as the Service's syncs do. These
// give it the Service's own pieces rather than copies.

// Validation returns the Service's checks (expiry, the node's Validator)
// and its one view of the orders being fetched (NewClaims, Await), the
// same value the Service hands its subprotocols through ValidationUser.
func (s *Service) Validation() *Validation { return s.validation }

// MetricsTracer returns the tracer the Service reports to: it counts into
// Stats, then passes each event on to WithMetricsTracer's tracer. A
// companion protocol reports its pages and rejected orders to it, so that
// they appear where a sync's do.
func (s *Service) MetricsTracer() MetricsTracer { return s.tracer }
