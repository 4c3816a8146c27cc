package reconcile

import (
	"encoding/json"
	"testing"

	"github.com/ordersync/ordersync/internal/riblt"
)

// FuzzParseRequestMetadata: any request metadata parses within its bounds
// or fails; what parses encodes and parses again to the same.
func FuzzParseRequestMetadata(f *testing.F) {
	f.Add([]byte(`null`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":12,"snapshot":3,"from":20,"count":16}`))
	f.Add([]byte(`{"op":"fetch","orderfilter":null,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"page","after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"fetch","hashes":"AAEC"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := parseRequestMetadata(raw)
		if err != nil {
			return
		}
		if err := md.check(); err != nil {
			t.Fatalf("parsed metadata fails its check: %v", err)
		}
		if len(md.Hashes) > 32*MaxFetch {
			t.Fatalf("%d bytes of hashes", len(md.Hashes))
		}
		again, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseRequestMetadata(again); err != nil {
			t.Fatalf("re-encoded metadata does not parse: %v (%s)", err, again)
		}
	})
}

// FuzzParseResponseMetadata: any response metadata parses within its
// bounds or fails, and its symbols and digest then decode.
func FuzzParseResponseMetadata(f *testing.F) {
	var d riblt.Digest
	sketch, _ := json.Marshal(ResponseMetadata{Op: OpSketch, Snapshot: 1, Total: 3,
		Digest: riblt.AppendDigest(nil, &d), Symbols: make([]byte, 2*riblt.SymbolSize)})
	f.Add(sketch)
	f.Add([]byte(`{"op":"fetch"}`))
	f.Add([]byte(`{"op":"page","next":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","from":5,"symbols":"AAAA"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := parseResponseMetadata(raw)
		if err != nil {
			return
		}
		if md.Op != OpSketch {
			return
		}
		syms, err := riblt.ParseSymbols(md.Symbols)
		if err != nil {
			t.Fatalf("checked symbols do not parse: %v", err)
		}
		if len(syms) > MaxSymbolsPerResponse || md.From+len(syms) > MaxSymbols {
			t.Fatalf("%d symbols from %d", len(syms), md.From)
		}
		if md.From == 0 {
			_, _ = riblt.ParseDigest(md.Digest, int64(md.Total)) // may fail on a lane, never panic
		}
	})
}
