package orderfilter

import "strings"

// leakingRefSiblings are the keywords that jsonschema/v6 (v6.0.3) still
// applies beside "$ref" in draft-06/07 schemas, against the drafts, which
// ignore every sibling of "$ref": it skips the draft-04 keywords of a "$ref"
// object but compiles the keywords draft-06 and draft-07 added. Existing
// nodes ignore them, so we remove them before compiling.
var leakingRefSiblings = [...]string{"const", "contains", "propertyNames", "if", "then", "else"}

// ignoresRefSiblings reports whether doc, a custom schema, is one where
// "$ref" siblings must be ignored: draft-07 by default, or draft-06/07 by
// "$schema". Draft 2019-09 and later apply siblings; draft-04 has none of
// the leaking keywords.
func ignoresRefSiblings(doc any) bool {
	obj, ok := doc.(map[string]any)
	if !ok {
		return false
	}
	meta, ok := obj["$schema"].(string)
	return !ok || strings.Contains(meta, "draft-07") || strings.Contains(meta, "draft-06")
}

// dropRefSiblings removes leakingRefSiblings from every schema object with a
// "$ref" in schema, in place. It walks schema positions only, so data (the
// values of const, enum, default, examples) and property names are never
// touched. A "$ref" pointing into a removed keyword then fails to compile,
// with a clear error, rather than being evaluated against the draft.
func dropRefSiblings(schema any) {
	obj, ok := schema.(map[string]any)
	if !ok {
		return
	}
	if _, isRef := obj["$ref"].(string); isRef {
		for _, keyword := range leakingRefSiblings {
			delete(obj, keyword)
		}
	}
	for keyword, value := range obj {
		switch keyword {
		case "const", "enum", "default", "examples", "required", "type",
			"$ref", "$id", "$schema", "$comment", "title", "description":
			// Not schemas.
		case "properties", "patternProperties", "definitions", "dependencies":
			if byName, ok := value.(map[string]any); ok {
				for _, sub := range byName {
					dropRefSiblings(sub)
				}
			}
		case "items", "allOf", "anyOf", "oneOf":
			if list, ok := value.([]any); ok {
				for _, sub := range list {
					dropRefSiblings(sub)
				}
			} else {
				dropRefSiblings(value)
			}
		default:
			// Single schemas (not, if, additionalProperties, ...) and unknown
			// keywords, which a "$ref" may point into and so use as schemas.
			dropRefSiblings(value)
		}
	}
}
