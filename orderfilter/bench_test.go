package orderfilter

import (
	"testing"
)

// benchCustomSchema is a typical custom filter: one token pair, no fees,
// with a $ref to a built-in schema.
const benchCustomSchema = `{
	"$ref": "/signedOrder",
	"properties": {
		"makerAssetData": {"pattern": "^0xf47261b0000000000000000000000000871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c$"},
		"takerFee": {"enum": ["0"]},
		"feeRecipientAddress": {"$ref": "/address"}
	}
}`

func benchmarkMatchOrder(b *testing.B, schema string) {
	f := mustNew(b, schema)
	o := testOrder(b)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.MatchOrder(o); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkMatchOrderDefault is the cost per order of the default filter,
// decided natively.
func BenchmarkMatchOrderDefault(b *testing.B) { benchmarkMatchOrder(b, DefaultCustomOrderSchema) }

// BenchmarkMatchOrderCustom is the cost per order of a schema that runs in
// the engine ($ref beside properties is ignored, so only the $ref runs).
func BenchmarkMatchOrderCustom(b *testing.B) { benchmarkMatchOrder(b, benchCustomSchema) }

// BenchmarkMatchOrderCustomNoRef is a schema with pattern, enum and a $ref
// below the root, all of which run.
func BenchmarkMatchOrderCustomNoRef(b *testing.B) {
	benchmarkMatchOrder(b, `{
		"allOf": [{"$ref": "/signedOrder"}],
		"properties": {
			"makerAssetData": {"pattern": "^0xf47261b0000000000000000000000000871dd7c2b4b25e1aa18728e9d5f2af4c4e431f5c$"},
			"takerFee": {"enum": ["0"]},
			"feeRecipientAddress": {"$ref": "/address"}
		}
	}`)
}

// BenchmarkParseCached is what a provider pays per request for the
// requester's filter after the first.
func BenchmarkParseCached(b *testing.B) {
	data := filterJSON(7777)
	if _, err := Parse(data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew is the cost of compiling a filter, which Parse saves.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(testChainID, benchCustomSchema, testExchange); err != nil {
			b.Fatal(err)
		}
	}
}
