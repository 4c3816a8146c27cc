//go:build !unix

package main

import "time"

// processCPUTime is not measured on this system; the bench shows "-".
func processCPUTime() time.Duration { return 0 }
