package ordersync

// WithTimer lets the external tests (package ordersync_test) drive the
// Service's waits: see withTimer.
var WithTimer = withTimer
