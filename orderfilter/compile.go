package orderfilter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// MaxCustomOrderSchemaSize bounds a custom schema, in bytes. Filters arrive
// from remote peers in every request; real filters are a few hundred bytes.
const MaxCustomOrderSchemaSize = 64 << 10

// errOnlyBuiltins is why any $ref (or $schema) outside the built-in schemas
// and the standard meta-schemas fails.
var errOnlyBuiltins = errors.New("only the built-in schemas /address, /wholeNumber, /hex, /order and /signedOrder can be referenced")

// builtinsOnly is the compiler's loader: it loads nothing, so a schema from a
// peer can never make us open a file or a connection.
type builtinsOnly struct{}

// Load implements jsonschema.URLLoader.
func (builtinsOnly) Load(url string) (any, error) {
	return nil, errOnlyBuiltins
}

// compiled is a custom schema ready to run.
type compiled struct {
	schema *jsonschema.Schema
	// trivial is true when the schema accepts every order, so that the
	// engine can be skipped.
	trivial bool
}

// compile compiles a custom schema from a peer. It never panics: the engine
// is a dependency we do not control, and a panic here would let any peer
// crash us with one request.
func compile(customOrderSchema string) (c compiled, err error) {
	if len(customOrderSchema) > MaxCustomOrderSchemaSize {
		return compiled{}, fmt.Errorf("orderfilter: customOrderSchema: %d bytes, more than the %d allowed",
			len(customOrderSchema), MaxCustomOrderSchemaSize)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(customOrderSchema))
	if err != nil {
		return compiled{}, fmt.Errorf("orderfilter: customOrderSchema is not JSON: %w", err)
	}
	if err := checkDepth(doc, 0); err != nil {
		return compiled{}, err
	}
	if ignoresRefSiblings(doc) {
		dropRefSiblings(doc)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = compiled{}, fmt.Errorf("orderfilter: customOrderSchema: schema engine panicked: %v", r)
		}
	}()

	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft7)
	compiler.UseLoader(builtinsOnly{})
	regexps := &regexpBudget{left: MaxRegexpInstructions}
	compiler.UseRegexpEngine(regexps.compile)
	for name, text := range builtinSchemas {
		builtin, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
		if err != nil {
			return compiled{}, fmt.Errorf("orderfilter: built-in schema /%s: %w", name, err)
		}
		if err := compiler.AddResource(builtinBase+name, builtin); err != nil {
			return compiled{}, fmt.Errorf("orderfilter: built-in schema /%s: %w", name, err)
		}
	}
	if err := compiler.AddResource(customSchemaURL, doc); err != nil {
		return compiled{}, fmt.Errorf("orderfilter: customOrderSchema: %w", err)
	}
	schema, err := compiler.Compile(customSchemaURL)
	if err != nil && regexps.left < 0 {
		// The meta-schema check reports this only as "not valid".
		return compiled{}, fmt.Errorf("orderfilter: customOrderSchema: %w", errRegexpsTooLarge)
	}
	if err != nil {
		return compiled{}, fmt.Errorf("orderfilter: customOrderSchema does not compile: %w", err)
	}
	if err := checkEvaluationBudget(schema); err != nil {
		return compiled{}, err
	}
	return compiled{schema: schema, trivial: acceptsEverything(doc)}, nil
}

// annotations are the draft-07 keywords that never make a value invalid.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "title": true,
	"description": true, "default": true, "examples": true,
	"definitions": true, "readOnly": true, "writeOnly": true,
}

// acceptsEverything reports whether the (compiled) schema doc is trivially
// true: true, {} or only annotations. Unknown keywords are treated as
// assertions, which only costs speed.
func acceptsEverything(doc any) bool {
	switch doc := doc.(type) {
	case bool:
		return doc
	case map[string]any:
		for keyword := range doc {
			if !annotations[keyword] {
				return false
			}
		}
		return true
	}
	return false
}
