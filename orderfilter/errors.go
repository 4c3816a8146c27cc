package orderfilter

import "fmt"

// Rule names one of a Filter's checks.
type Rule string

// The checks of a Filter, in the order they run. The first that fails is the
// one a MismatchError reports.
const (
	// RuleWellFormed: every field of the order is present and in range.
	RuleWellFormed Rule = "well-formed"
	// RuleChainID: the order's chainId is the filter's chain ID.
	RuleChainID Rule = "chainId"
	// RuleExchangeAddress: the order's exchangeAddress is the filter's.
	RuleExchangeAddress Rule = "exchangeAddress"
	// RuleCustomSchema: the order's JSON satisfies the custom schema.
	RuleCustomSchema Rule = "customOrderSchema"
)

// MismatchError says why an order does not match a Filter.
type MismatchError struct {
	// Rule is the check that failed.
	Rule Rule
	// InstancePointer is the JSON pointer, into the order's JSON, of the
	// value that failed ("" for the order as a whole), e.g. "/makerFee".
	InstancePointer string
	// Keyword is the schema keyword that failed, e.g. "pattern"; set for
	// RuleCustomSchema only.
	Keyword string
	// SchemaLocation is the absolute location of the failed keyword, e.g.
	// "ordersync-builtin:///customOrderSchema#/properties/makerFee/pattern"
	// (built-in schemas live at ordersync-builtin:///address and so on); set
	// for RuleCustomSchema only.
	SchemaLocation string
	// Reason says what was wrong, for people.
	Reason string
}

// Error implements error.
func (e *MismatchError) Error() string {
	if e.Rule == RuleCustomSchema {
		return fmt.Sprintf("orderfilter: order does not match: %s: keyword %q at %s fails at %q: %s",
			e.Rule, e.Keyword, e.SchemaLocation, e.InstancePointer, e.Reason)
	}
	return fmt.Sprintf("orderfilter: order does not match: %s: field %q: %s", e.Rule, e.InstancePointer, e.Reason)
}
