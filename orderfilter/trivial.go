package orderfilter

// IsTrivial reports whether f's custom schema accepts every order (true,
// {} or only annotations, as DefaultCustomOrderSchema), so that MatchOrder
// runs only the built-in checks, natively, and never the schema engine.
// A provider can serve such filters freely; any other filter may cost up to
// MaxEvaluationSteps per order, and deserves a budget. A nil or zero Filter
// is not trivial.
func (f *Filter) IsTrivial() bool {
	return f != nil && f.custom.trivial
}
