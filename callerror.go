package ordersync

import (
	"fmt"
	"strings"
)

// callError is the error of a call on the Service (GetOrders, SyncPeer,
// ...): "ordersync: Op: what happened", wrapping the errors it names so
// that errors.Is finds each. The package's own errors inside it read
// "ordersync: ..." on their own; in a call's error the prefix is said
// once, not once per layer ("ordersync: GetOrders: ordersync: ...").
type callError struct {
	op     string
	format string
	args   []any
	errs   []error
}

// callErrorf is fmt.Errorf for a call's error: format's %w verbs name the
// errors it wraps.
func callErrorf(op, format string, args ...any) error {
	e := &callError{op: op, format: format, args: args}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.errs = append(e.errs, err)
		}
	}
	return e
}

func (e *callError) Error() string {
	text := fmt.Sprintf(strings.ReplaceAll(e.format, "%w", "%v"), e.args...)
	return "ordersync: " + e.op + ": " + strings.ReplaceAll(text, "ordersync: ", "")
}

func (e *callError) Unwrap() []error { return e.errs }
