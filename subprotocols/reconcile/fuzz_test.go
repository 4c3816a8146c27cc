package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ordersync/ordersync"
	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

// FuzzParseRequestMetadata: any request metadata parses within its bounds
// or fails; what parses encodes and parses again to the same.
func FuzzParseRequestMetadata(f *testing.F) {
	f.Add([]byte(`null`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":12,"snapshot":3,"from":20,"count":16}`))
	f.Add([]byte(`{"op":"fetch","orderfilter":null,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"page","after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"fetch","hashes":"AAEC"}`))
	f.Add([]byte(`{"op":"sketch","list":true,"snapshot":3,"from":20,"count":16,"after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":40,"most":128}`))
	f.Add([]byte(`{"op":"sketch","held":40,"most":-1}`))
	f.Add([]byte(`{"op":"sketch","list":true,"snapshot":3,"heldFilter":"//8A/w==","heldFilterPositions":11,"heldFilterSalt":18446744073709551615}`))
	f.Add([]byte(`{"op":"sketch","list":true,"heldFilter":"//8A/w==","heldFilterPositions":17}`))
	f.Add([]byte(`{"op":"sketch","heldFilter":"//8A/w==","heldFilterPositions":3}`))
	f.Add([]byte(`{"op":"fetch","snapshot":4,"positions":"AAEC"}`))
	f.Add([]byte(`{"op":"sketch","list":true,"snapshot":3,"heldSet":"//8A/w==","heldSetCount":2,"heldSetBits":28,"heldSetSalt":5}`))
	f.Add([]byte(`{"op":"sketch","list":true,"heldSet":"//8A/w==","heldSetCount":0,"heldSetBits":41}`))
	f.Add([]byte(`{"op":"sketch","list":true,"heldSet":"//8A/w==","heldSetCount":3,"heldSetBits":8,"heldFilter":"//8A/w==","heldFilterPositions":3}`))
	f.Add([]byte(`{"op":"fetch","positions":"AAEC"}`))
	f.Add([]byte(`{"op":"fetch","snapshot":4,"positions":"gICACAE="}`))
	f.Add([]byte(`{"op":"fetch","snapshot":4,"positions":"AQA=","hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":12,"most":256,"heldSum":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","held":12,"heldSum":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"}`))
	f.Add([]byte(`{"op":"page","heldSum":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := parseRequestMetadata(raw)
		if err != nil {
			return
		}
		if err := md.check(); err != nil {
			t.Fatalf("parsed metadata fails its check: %v", err)
		}
		if len(md.HeldSum) != 0 && (md.Op != OpSketch || len(md.HeldSum) != sumSize) {
			t.Fatalf("a held sum of %d bytes in %q", len(md.HeldSum), md.Op)
		}
		if len(md.Hashes) > 32*MaxFetch {
			t.Fatalf("%d bytes of hashes", len(md.Hashes))
		}
		if len(md.HeldSet) > MaxHeldSet || (len(md.HeldSet) > 0 && (!md.List || md.HeldSetCount > MaxSymbols || md.HeldSetBits > MaxHeldSetBits)) {
			t.Fatalf("a held set of %d bytes, %d values of %d bits, list %v", len(md.HeldSet), md.HeldSetCount, md.HeldSetBits, md.List)
		}
		if positions, err := parsePositions(md.Positions, MaxFetch, maxPosition); md.Op == OpFetch && (err != nil || len(positions) > MaxFetch) {
			t.Fatalf("a fetch's positions: %d of them, %v", len(positions), err)
		}
		if len(md.HeldFilter) > MaxHeldFilter || (len(md.HeldFilter) > 0 && (!md.List || md.HeldFilterPositions > MaxHeldFilterPositions)) {
			t.Fatalf("a held filter of %d bytes, %d positions, list %v", len(md.HeldFilter), md.HeldFilterPositions, md.List)
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
	f.Add([]byte(`{"op":"list","snapshot":2,"total":1,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","end":true}`))
	f.Add([]byte(`{"op":"list","snapshot":2,"total":4,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","positions":"Aw==","end":true}`))
	f.Add([]byte(`{"op":"list","snapshot":2,"total":3,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","positions":"Aw==","end":true}`))
	f.Add([]byte(`{"op":"list","snapshot":2,"total":9,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","positions":"AQA="}`))
	f.Add([]byte(`{"op":"fetch","gone":true}`))
	f.Add([]byte(`{"op":"sketch","total":5,"same":true}`))
	f.Add([]byte(`{"op":"sketch","same":true}`))
	f.Add([]byte(`{"op":"sketch","total":5,"same":true,"symbols":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJyg="}`))
	f.Add([]byte(`{"op":"sketch","total":5,"same":true,"from":3}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := parseResponseMetadata(raw)
		if err != nil {
			return
		}
		if md.Same && (md.Op != OpSketch || len(md.Symbols) != 0 || len(md.Digest) != 0 || md.From != 0 || md.Total == 0) {
			t.Fatalf("\"same\" with %d bytes of symbols from %d, a digest of %d bytes, total %d", len(md.Symbols), md.From, len(md.Digest), md.Total)
		}
		if md.Op == OpList && (len(md.Hashes)%32 != 0 || len(md.Hashes) > 32*MaxListPerResponse) {
			t.Fatalf("%d bytes of listed hashes", len(md.Hashes))
		}
		if md.Op == OpList && len(md.Positions) > 0 {
			if at, err := parsePositions(md.Positions, len(md.Hashes)/32, md.Total); err != nil || len(at) != len(md.Hashes)/32 {
				t.Fatalf("%d positions of %d listed hashes: %v", len(at), len(md.Hashes)/32, err)
			}
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

// fuzzOrders are the signed orders the handler targets serve and fetch.
var fuzzOrders = sync.OnceValue(func() []*zeroex.SignedOrder {
	return ordergen.Generate(ordergen.Options{Seed: 11, Count: 300})
})

// FuzzHandleOrderSyncRequest drives the provider's handler with any
// request metadata that parses: it answers within a response's bounds or
// fails, and never panics. (The held overflow passed the parser and
// panicked here.)
func FuzzHandleOrderSyncRequest(f *testing.F) {
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":9223372036854775807}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":250}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"snapshot":1,"from":131072,"count":9223372036854775807}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"snapshot":1,"from":12,"count":16}`))
	f.Add([]byte(`{"op":"fetch","orderfilter":null,"hashes":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"page","after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true,"snapshot":1,"after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":100,"most":1}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true,"heldFilter":"AA==","heldFilterPositions":16,"heldFilterSalt":7}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true,"heldFilter":"/////////w==","heldFilterPositions":1}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true,"snapshot":1,"after":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","heldFilter":"qqqq","heldFilterPositions":2}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true,"heldSet":"AAAAAA==","heldSetCount":3,"heldSetBits":2,"heldSetSalt":7}`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"list":true,"heldSet":"/////w==","heldSetCount":131072,"heldSetBits":40}`))
	f.Add([]byte(`{"op":"fetch","orderfilter":null,"snapshot":1,"positions":"AAEBAQ=="}`))
	f.Add([]byte(`{"op":"fetch","orderfilter":null,"snapshot":1,"positions":"gICABAE="}`))
	f.Add([]byte(`{"op":"fetch","orderfilter":null,"snapshot":99,"positions":"AA=="}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"op":"sketch","orderfilter":null,"held":300,"heldSum":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`))
	store := orderstore.NewMemory()
	if _, err := store.AddOrders(context.Background(), fuzzOrders()); err != nil {
		f.Fatal(err)
	}
	s := New(store, nil)
	// A requester holding the provider's very set: the "same" answer.
	same, err := New(store, nil).GenerateFirstRequestMetadata()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(same))
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := s.ParseRequestMetadata(raw)
		if err != nil {
			return
		}
		res, err := s.HandleOrderSyncRequest(context.Background(), &ordersync.Request{Metadata: md})
		if err != nil {
			return
		}
		out := res.Metadata.(*ResponseMetadata)
		if n := len(out.Symbols) / riblt.SymbolSize; n > MaxSymbolsPerResponse || out.From > MaxSymbols-n {
			t.Fatalf("%d symbols from %d", n, out.From)
		}
		if len(out.Hashes) > 32*MaxListPerResponse {
			t.Fatalf("%d bytes of listed hashes", len(out.Hashes))
		}
		if len(res.Orders) > MaxFetch {
			t.Fatalf("%d orders", len(res.Orders))
		}
		// What the provider sends, its requesters parse.
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseResponseMetadata(b); err != nil {
			t.Fatalf("own answer %s does not parse: %v", b, err)
		}
	})
}

// FuzzHandleOrderSyncResponse drives the requester's handler with two
// responses in a row from one provider, each any metadata that parses
// with up to 7 of the provider's orders: it returns a request, nil or an
// error, and never panics or stores an order it did not ask for.
func FuzzHandleOrderSyncResponse(f *testing.F) {
	var d riblt.Digest
	items := make([]riblt.Item, 20)
	for i, o := range fuzzOrders()[:20] {
		h, _ := o.ComputeOrderHash()
		items[i] = riblt.Item(h)
		d.AddItem(&items[i])
	}
	sketch, _ := json.Marshal(ResponseMetadata{Op: OpSketch, Snapshot: 1, Total: 20,
		Digest: riblt.AppendDigest(nil, &d), Symbols: riblt.AppendSymbols(nil, riblt.Encode(items, 0, 40))})
	f.Add(sketch, []byte(`{"op":"fetch"}`), uint8(3))
	f.Add(sketch, sketch, uint8(0))
	f.Add([]byte(`{"op":"page","next":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`), []byte(`{"op":"page"}`), uint8(5))
	f.Add([]byte(`{"op":"sketch","snapshot":1,"total":9223372036854775807,"from":0}`), []byte(`{"op":"fetch"}`), uint8(1))
	f.Add([]byte(`{"op":"fetch","gone":true}`), []byte(`{"op":"fetch"}`), uint8(0))
	f.Add([]byte(`{"op":"sketch","total":20,"same":true}`), []byte(`{"op":"sketch","total":20,"same":true}`), uint8(0))
	f.Add(sketch, []byte(`{"op":"sketch","total":20,"same":true}`), uint8(0))
	f.Fuzz(func(t *testing.T, first, second []byte, orders uint8) {
		store := orderstore.NewMemory()
		s := New(store, nil, WithMaxRounds(4))
		provider := peer.ID("fuzzed provider")
		for i, raw := range [][]byte{first, second} {
			md, err := s.ParseResponseMetadata(raw)
			if err != nil {
				return
			}
			k := int(orders>>(4*i)) & 7
			res := &ordersync.Response{ProviderID: provider, Orders: fuzzOrders()[20 : 20+k], Metadata: md}
			if _, _, err := s.HandleOrderSyncResponse(context.Background(), res); err != nil {
				return
			}
		}
		if n := store.Len(); n > 14 {
			t.Fatalf("stored %d orders", n)
		}
	})
}

// FuzzListMerge merges any listed bytes, in two answers, with a local set:
// it fails on hashes out of order, and otherwise finds as the provider's
// only the listed hashes the local set lacks, never panicking; the
// positions it keeps are one for each of those, ascending.
func FuzzListMerge(f *testing.F) {
	f.Add([]byte{}, make([]byte, 64), make([]byte, 32), []byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{1}, 32), append(make([]byte, 32), bytes.Repeat([]byte{1}, 32)...), bytes.Repeat([]byte{2}, 40), []byte{3, 1}, []byte{9})
	f.Add([]byte{}, bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 32), []byte{5}, []byte{2})
	f.Fuzz(func(t *testing.T, local, first, second, firstAt, secondAt []byte) {
		ls := &listState{}
		for i := 0; i+32 <= len(local); i += 32 {
			ls.local = append(ls.local, common.Hash(local[i:i+32]))
		}
		slices.SortFunc(ls.local, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) })
		ls.local = slices.Compact(ls.local)
		listed := 0
		for i, page := range [][]byte{first, second} {
			page = page[:len(page)/32*32]
			// Positions that do not parse are an answer without them.
			at, _ := parsePositions([][]byte{firstAt, secondAt}[i], len(page)/32, maxPosition)
			if err := ls.merge(page, at); err != nil {
				return
			}
			listed += len(page) / 32
		}
		if ls.listed != listed || len(ls.remoteOnly) > listed {
			t.Fatalf("listed %d of %d, %d only the provider's", ls.listed, listed, len(ls.remoteOnly))
		}
		if ls.at != nil && (len(ls.at) != len(ls.remoteOnly) || !slices.IsSorted(ls.at) || len(slices.Compact(slices.Clone(ls.at))) != len(ls.at)) {
			t.Fatalf("positions %v of %d hashes only the provider's", ls.at, len(ls.remoteOnly))
		}
		for _, h := range ls.remoteOnly {
			if _, found := slices.BinarySearchFunc(ls.local, h, func(a, b common.Hash) int { return bytes.Compare(a[:], b[:]) }); found {
				t.Fatalf("%x is held, and found only the provider's", h[:4])
			}
		}
	})
}

// FuzzParsePositions: any bytes decode to at most the positions asked
// for, ascending and below the limit, which encode back to the same bytes,
// or fail.
func FuzzParsePositions(f *testing.F) {
	f.Add([]byte{0, 1, 127}, uint16(3), uint32(200))
	f.Add([]byte{0x80, 0x80, 0x80, 0x08}, uint16(1), uint32(maxPosition))
	f.Add([]byte{5, 0}, uint16(2), uint32(10))
	f.Add([]byte{0x80, 0x00}, uint16(2), uint32(10))
	f.Fuzz(func(t *testing.T, raw []byte, most uint16, limit uint32) {
		got, err := parsePositions(raw, int(most), int(limit))
		if err != nil {
			return
		}
		if len(got) > int(most) {
			t.Fatalf("%d positions, at most %d asked", len(got), most)
		}
		for i, p := range got {
			if p >= int(limit) || (i > 0 && p <= got[i-1]) {
				t.Fatalf("positions %v, limit %d", got, limit)
			}
		}
		if again := appendPositions(nil, got); !bytes.Equal(again, raw) && len(raw) > 0 {
			// Varints have one shortest form; a longer one (0x80 0x00) is
			// accepted by binary.Uvarint and decodes to the same.
			if back, err := parsePositions(again, int(most), int(limit)); err != nil || !slices.Equal(back, got) {
				t.Fatalf("%v encodes to %x, which decodes to %v, %v", got, again, back, err)
			}
		}
	})
}

// FuzzDecodeHeldSet: any bytes decode, within the bounds, to ascending
// values below count·2^bits, or fail.
func FuzzDecodeHeldSet(f *testing.F) {
	raw, count := encodeHeldSet(randomHashes(50, 5), nil, 3, heldSetBits)
	f.Add(raw, uint32(count), uint8(heldSetBits))
	f.Add([]byte{0xff, 0xff, 0xfe, 0x01}, uint32(1), uint8(1))
	f.Add([]byte{0, 0, 0, 0, 0}, uint32(4), uint8(8))
	f.Fuzz(func(t *testing.T, raw []byte, count uint32, bits uint8) {
		s, err := decodeHeldSet(raw, int(count), int(bits), 1)
		if err != nil {
			return
		}
		if len(s.values) != int(count) || !slices.IsSorted(s.values) || s.values[len(s.values)-1] >= uint64(count)<<bits {
			t.Fatalf("%d values of %d, last %d, range %d", len(s.values), count, s.values[len(s.values)-1], uint64(count)<<bits)
		}
	})
}
