//go:build unix

package main

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time (user and system) this process has
// used so far, so that a measurement can be read apart from what other
// processes on the machine take.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
