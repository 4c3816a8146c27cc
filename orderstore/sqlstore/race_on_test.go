//go:build race

package sqlstore_test

// raceEnabled says the race detector is on: it slows signing and checking
// tenfold, so TestHostSync moves fewer orders (.ci/run runs it in full
// without the detector).
const raceEnabled = true
