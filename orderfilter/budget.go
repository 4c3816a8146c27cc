package orderfilter

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The bounds on a custom schema beyond its size. Each one stops a small
// schema from costing a provider seconds of CPU: the engine compiles deep
// nesting in time cubic in the depth, expands regexp repetitions, and
// re-evaluates a subschema every time a $ref reaches it.
const (
	// MaxSchemaDepth bounds how deeply a custom schema's JSON nests. Real
	// filters nest a few levels; the engine takes 0.6 s at 800.
	MaxSchemaDepth = 32
	// MaxRegexpInstructions bounds the compiled size of all the regexps of
	// one custom schema together ("^a{0,999}$" alone is about 1000).
	MaxRegexpInstructions = 20000
	// MaxEvaluationSteps bounds how many subschemas the engine may visit to
	// check one order. A $ref to /signedOrder costs about 40.
	MaxEvaluationSteps = 1000
)

// checkDepth fails when doc nests deeper than MaxSchemaDepth.
func checkDepth(doc any, depth int) error {
	if depth > MaxSchemaDepth {
		return fmt.Errorf("orderfilter: customOrderSchema: nests deeper than %d levels", MaxSchemaDepth)
	}
	switch doc := doc.(type) {
	case map[string]any:
		for _, v := range doc {
			if err := checkDepth(v, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range doc {
			if err := checkDepth(v, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// regexpBudget is a jsonschema.RegexpEngine (Go's regexp, linear in the
// input) that refuses to compile more than MaxRegexpInstructions in all.
type regexpBudget struct {
	left int
}

// compile is the engine. It sizes each regexp from its parse tree before
// letting regexp build it, which is the expensive part.
func (b *regexpBudget) compile(pattern string) (jsonschema.Regexp, error) {
	if fast, ok := fastPatterns[pattern]; ok {
		return fast, nil
	}
	if b.left < 0 {
		return nil, errRegexpsTooLarge
	}
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	if b.left -= regexpSize(parsed); b.left < 0 {
		return nil, errRegexpsTooLarge
	}
	return regexp.Compile(pattern)
}

var errRegexpsTooLarge = fmt.Errorf("regexps larger than %d instructions in all", MaxRegexpInstructions)

// regexpSize estimates how many instructions re compiles to, counting
// repetitions in full as the compiler expands them. It saturates at
// MaxRegexpInstructions+1.
func regexpSize(re *syntax.Regexp) int {
	size := 1
	for _, sub := range re.Sub {
		size += regexpSize(sub)
	}
	if re.Op == syntax.OpRepeat {
		times := max(re.Max, re.Min, 1)
		size = min(size*times, MaxRegexpInstructions+1)
	}
	return min(size, MaxRegexpInstructions+1)
}

// orderFieldCount is how many properties an order's JSON has: the keywords
// that apply to every property (patternProperties, additionalProperties,
// propertyNames) may run that many times.
const orderFieldCount = 17

var errTooCostly = fmt.Errorf("orderfilter: customOrderSchema: checking an order could take more than %d steps", MaxEvaluationSteps)

// evaluationBudget bounds, from above, the subschemas the engine visits to
// check one order. It walks the compiled schema the way the validator does
// on an order's JSON: an object (depth 0) whose properties are strings and
// numbers (depth 1), so array keywords never apply and nothing goes deeper.
// Like the validator, it stops at a subschema already being evaluated at
// the same depth (a $ref cycle, which the validator reports).
type evaluationBudget struct {
	steps  int
	active []*jsonschema.Schema // the subschemas being evaluated at this depth
}

func checkEvaluationBudget(s *jsonschema.Schema) error {
	var b evaluationBudget
	return b.visit(s, 0)
}

func (b *evaluationBudget) visit(s *jsonschema.Schema, depth int) error {
	if s == nil {
		return nil
	}
	if b.steps++; b.steps > MaxEvaluationSteps {
		return errTooCostly
	}
	if s.Bool != nil {
		return nil
	}
	for _, a := range b.active {
		if a == s {
			return nil
		}
	}
	if s.RecursiveRef != nil || s.DynamicRef != nil || s.DependentSchemas != nil ||
		s.UnevaluatedProperties != nil || s.UnevaluatedItems != nil || s.PrefixItems != nil ||
		s.Items2020 != nil || len(s.Extensions) > 0 {
		return errors.New("orderfilter: customOrderSchema: keywords after draft-07 are not supported")
	}
	b.active = append(b.active, s)
	defer func() { b.active = b.active[:len(b.active)-1] }()

	same := []*jsonschema.Schema{s.Ref, s.Not, s.If, s.Then, s.Else}
	same = append(append(append(same, s.AllOf...), s.AnyOf...), s.OneOf...)
	for _, dep := range s.Dependencies {
		if dep, ok := dep.(*jsonschema.Schema); ok {
			same = append(same, dep)
		}
	}
	for _, sub := range same {
		if err := b.visit(sub, depth); err != nil {
			return err
		}
	}
	if depth > 0 {
		return nil
	}
	for _, sub := range s.Properties {
		if err := b.visitProperty(sub, 1); err != nil {
			return err
		}
	}
	every := []*jsonschema.Schema{s.PropertyNames}
	if sub, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		every = append(every, sub)
	}
	for _, sub := range s.PatternProperties {
		every = append(every, sub)
	}
	for _, sub := range every {
		if err := b.visitProperty(sub, orderFieldCount); err != nil {
			return err
		}
	}
	return nil
}

// visitProperty counts sub applied to times properties of the order, at
// depth 1 where the cycle check starts afresh.
func (b *evaluationBudget) visitProperty(sub *jsonschema.Schema, times int) error {
	if sub == nil {
		return nil
	}
	outer, before := b.active, b.steps
	b.active = nil
	err := b.visit(sub, 1)
	b.active = outer
	if err != nil {
		return err
	}
	if b.steps += (times - 1) * (b.steps - before); b.steps > MaxEvaluationSteps {
		return errTooCostly
	}
	return nil
}
