package cli

import (
	"fmt"
	"time"
)

// FormatDuration writes d as milliseconds below a second, else as seconds
// with two decimals.
func FormatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
