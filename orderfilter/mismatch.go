package orderfilter

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer renders the engine's messages; the engine itself shares one
// printer across goroutines the same way.
var printer = message.NewPrinter(language.English)

// schemaMismatch turns the engine's failure into a MismatchError about its
// first innermost cause, the keyword that actually failed.
func schemaMismatch(failure *jsonschema.ValidationError) *MismatchError {
	leaf := failure
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	m := &MismatchError{
		Rule:            RuleCustomSchema,
		InstancePointer: jsonPointer(leaf.InstanceLocation),
		SchemaLocation:  leaf.SchemaURL,
		Reason:          describe(leaf),
	}
	if ref, ok := leaf.ErrorKind.(*kind.Reference); ok {
		m.Keyword, m.SchemaLocation = "$ref", ref.URL
	} else if path := leaf.ErrorKind.KeywordPath(); len(path) > 0 {
		m.Keyword = path[len(path)-1]
		m.SchemaLocation += jsonPointer(path)
	} else if _, ok := leaf.ErrorKind.(*kind.FalseSchema); ok {
		m.Keyword = "false"
	}
	return m
}

// unevaluable returns the part of failure that says the schema could not be
// evaluated (a $ref cycle), or nil when failure is an honest "no".
func unevaluable(failure *jsonschema.ValidationError) *jsonschema.ValidationError {
	if _, ok := failure.ErrorKind.(*kind.RefCycle); ok {
		return failure
	}
	for _, cause := range failure.Causes {
		if broken := unevaluable(cause); broken != nil {
			return broken
		}
	}
	return nil
}

// describe is the engine's message for one failure, without its causes.
func describe(failure *jsonschema.ValidationError) string {
	return failure.ErrorKind.LocalizedString(printer)
}

// jsonPointer joins path into a JSON pointer (RFC 6901).
func jsonPointer(path []string) string {
	var b strings.Builder
	for _, token := range path {
		b.WriteByte('/')
		token = strings.ReplaceAll(token, "~", "~0")
		b.WriteString(strings.ReplaceAll(token, "/", "~1"))
	}
	return b.String()
}
