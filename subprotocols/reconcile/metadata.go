package reconcile

import (
	"encoding/json"
	"fmt"

	"github.com/ordersync/ordersync/internal/riblt"
	"github.com/ordersync/ordersync/orderfilter"
	"github.com/ordersync/ordersync/subprotocols/internal/meta"
)

// The ops of requests and responses.
const (
	// OpSketch asks for, or answers with, coded symbols of the
	// provider's set.
	OpSketch = "sketch"
	// OpFetch asks for orders by hash, or answers with them.
	OpFetch = "fetch"
	// OpPage asks for, or answers with, a page of orders after a cursor,
	// as "/pagination-with-filter/version/1" does.
	OpPage = "page"
	// OpList answers a sketch request that asked for a list (its List
	// field) with the snapshot's hashes instead of symbols.
	OpList = "list"
)

// Wire bounds, checked when metadata is parsed.
const (
	// MaxFetch is how many hashes one fetch request may name.
	MaxFetch = 500
	// MaxSymbolsPerResponse is how many coded symbols one response may
	// hold: about 900 kB of base64.
	MaxSymbolsPerResponse = 16_384
	// MaxSymbols bounds the index of any symbol asked for or sent.
	MaxSymbols = 1 << 17
	// MaxListPerResponse is how many hashes one list answer may hold:
	// about 700 kB of base64.
	MaxListPerResponse = 16_384
)

// RequestMetadata is the metadata of a request.
type RequestMetadata struct {
	// Op is OpSketch, OpFetch or OpPage.
	Op string `json:"op"`
	// OrderFilter is the requester's filter; nil (JSON null) asks for
	// every order.
	OrderFilter *orderfilter.Filter `json:"orderfilter"`
	// Held is, in a sync's first request, how many orders the requester
	// holds that match OrderFilter: the provider sizes its first answer by
	// it, and pages instead when it is far below its own count.
	Held int `json:"held,omitempty"`
	// Snapshot names the provider's snapshot that earlier symbols came
	// from (0 in the first request).
	Snapshot uint64 `json:"snapshot,omitempty"`
	// From and Count ask for symbols [From, From+Count); Count 0 lets the
	// provider choose.
	From  int `json:"from,omitempty"`
	Count int `json:"count,omitempty"`
	// Most is the most symbols a first answer may carry: the answer to a
	// sync's first request, or from a new snapshot when the one named is
	// gone (0: as many as the provider chooses, or Count). A provider that
	// does not know the field answers with its own choice, or Count.
	Most int `json:"most,omitempty"`
	// Hashes are the order hashes a fetch asks for, 32 bytes each,
	// ascending (base64 on the wire).
	Hashes []byte `json:"hashes,omitempty"`
	// Positions, in a fetch instead of Hashes, name the hashes asked for
	// by their indices in the snapshot Snapshot (see positions.go): sent
	// only to a provider whose list answers gave positions.
	Positions []byte `json:"positions,omitempty"`
	// After is a page request's cursor (32 bytes, base64; absent is the
	// beginning), and a list request's: the last hash listed so far.
	After []byte `json:"after,omitempty"`
	// List, in a sketch request, asks for the snapshot's hashes after
	// After instead of symbols: for a difference so large that its
	// symbols cost more than the provider's whole list. A provider that
	// does not know the field answers with the symbols asked for by
	// Snapshot, From and Count, as for any sketch request.
	List bool `json:"list,omitempty"`
	// HeldFilter, in a list request, is a Bloom filter of the requester's
	// set (see heldFilter): the provider lists only the hashes it does
	// not hold. HeldFilterPositions is the bit positions per hash, and
	// HeldFilterSalt the salt of their hashes. A provider that does not
	// know the fields lists every hash.
	HeldFilter          []byte `json:"heldFilter,omitempty"`
	HeldFilterPositions int    `json:"heldFilterPositions,omitempty"`
	HeldFilterSalt      uint64 `json:"heldFilterSalt,omitempty"`
	// HeldSet, in a list request instead of HeldFilter, is a held set of
	// the requester's set (see heldset.go): HeldSetCount values with
	// HeldSetBits remainder bits each, under HeldSetSalt. Sent only to a
	// provider whose sketch answers showed HeldSets.
	HeldSet      []byte `json:"heldSet,omitempty"`
	HeldSetCount int    `json:"heldSetCount,omitempty"`
	HeldSetBits  int    `json:"heldSetBits,omitempty"`
	HeldSetSalt  uint64 `json:"heldSetSalt,omitempty"`
	// HeldSum, in a sync's first sketch request, is the sum of the
	// requester's set (same.go, sumSize bytes): a provider whose set has
	// the same sum answers Same. A provider that does not know the field
	// answers with symbols.
	HeldSum []byte `json:"heldSum,omitempty"`
}

// ResponseMetadata is the metadata of a response.
type ResponseMetadata struct {
	// Op is the request's op, or OpPage when the provider answered a
	// first sketch request with a page.
	Op string `json:"op"`
	// Snapshot names the snapshot the symbols come from.
	Snapshot uint64 `json:"snapshot,omitempty"`
	// Total is how many orders the snapshot holds.
	Total int `json:"total,omitempty"`
	// Digest is the snapshot's set digest (riblt.DigestSize bytes), sent
	// with the symbols from index 0.
	Digest []byte `json:"digest,omitempty"`
	// From is the index of the first symbol in Symbols.
	From int `json:"from,omitempty"`
	// Symbols are coded symbols, riblt.SymbolSize bytes each.
	Symbols []byte `json:"symbols,omitempty"`
	// Next is a page's cursor: the hash of the last order the provider
	// scanned.
	Next []byte `json:"next,omitempty"`
	// Hashes are a list answer's hashes of the snapshot, 32 bytes each,
	// ascending (base64 on the wire).
	Hashes []byte `json:"hashes,omitempty"`
	// End is true in the list answer that reaches the snapshot's last
	// hash.
	End bool `json:"end,omitempty"`
	// Positions, in a list answer, are the indices in the snapshot of
	// its hashes (see positions.go): the provider takes fetches naming
	// them. A requester that does not know the field ignores it.
	Positions []byte `json:"positions,omitempty"`
	// HeldSets, in a sketch answer with Digest, says the provider takes
	// held sets in list requests. A requester that does not know the
	// field ignores it.
	HeldSets bool `json:"heldSets,omitempty"`
	// Gone, in a fetch answer, says the snapshot a fetch by positions
	// named is gone: the requester asks again by hashes.
	Gone bool `json:"gone,omitempty"`
	// Same, in a sketch answer to a first request with HeldSum, says the
	// provider's set has that sum: the answer has no symbols and no
	// digest, and the requester is in sync.
	Same bool `json:"same,omitempty"`

	// listed are Positions as check decoded them, for the requester.
	listed []int
}

// parseRequestMetadata decodes and checks request metadata. Absent or null
// metadata is a first request without a filter.
func parseRequestMetadata(raw json.RawMessage) (*RequestMetadata, error) {
	if meta.IsNull(raw) {
		return &RequestMetadata{Op: OpSketch}, nil
	}
	var w struct {
		RequestMetadata
		OrderFilter json.RawMessage `json:"orderfilter"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("reconcile: request metadata: %w", err)
	}
	md := w.RequestMetadata
	filter, err := meta.ParseFilter(w.OrderFilter)
	if err != nil {
		return nil, fmt.Errorf("reconcile: request metadata: field \"orderfilter\": %w", err)
	}
	md.OrderFilter = filter
	if err := md.check(); err != nil {
		return nil, fmt.Errorf("reconcile: request metadata: %w", err)
	}
	return &md, nil
}

func (md *RequestMetadata) check() error {
	if len(md.HeldSum) != 0 && (md.Op != OpSketch || len(md.HeldSum) != sumSize) {
		return fmt.Errorf("op %q: a held sum of %d bytes, want %d in a sketch request", shorten(md.Op), len(md.HeldSum), sumSize)
	}
	switch md.Op {
	case OpSketch:
		if md.Held < 0 || md.From < 0 || md.From > MaxSymbols || md.Count < 0 || md.Most < 0 {
			return fmt.Errorf("sketch: held %d, from %d, count %d, most %d out of range", md.Held, md.From, md.Count, md.Most)
		}
		if len(md.After) != 0 && (len(md.After) != 32 || !md.List) {
			return fmt.Errorf("sketch: cursor of %d bytes, want 32 and a list", len(md.After))
		}
		if len(md.HeldFilter) != 0 && (!md.List || len(md.HeldFilter) > MaxHeldFilter ||
			md.HeldFilterPositions < 1 || md.HeldFilterPositions > MaxHeldFilterPositions) {
			return fmt.Errorf("sketch: held filter of %d bytes and %d positions, want a list, at most %d bytes and 1 to %d positions",
				len(md.HeldFilter), md.HeldFilterPositions, MaxHeldFilter, MaxHeldFilterPositions)
		}
		if len(md.HeldSet) != 0 && (!md.List || len(md.HeldFilter) != 0 || len(md.HeldSet) > MaxHeldSet ||
			md.HeldSetCount < 1 || md.HeldSetCount > MaxSymbols || md.HeldSetBits < 1 || md.HeldSetBits > MaxHeldSetBits) {
			return fmt.Errorf("sketch: held set of %d bytes, %d values of %d bits, want a list without a held filter, at most %d bytes, 1 to %d values of 1 to %d bits",
				len(md.HeldSet), md.HeldSetCount, md.HeldSetBits, MaxHeldSet, MaxSymbols, MaxHeldSetBits)
		}
	case OpFetch:
		if len(md.Positions) > 0 {
			if len(md.Hashes) > 0 || md.Snapshot == 0 {
				return fmt.Errorf("fetch: positions with %d bytes of hashes and snapshot %d, want none and a snapshot", len(md.Hashes), md.Snapshot)
			}
			if _, err := parsePositions(md.Positions, MaxFetch, maxPosition); err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			return nil
		}
		if len(md.Hashes) == 0 || len(md.Hashes)%32 != 0 || len(md.Hashes) > 32*MaxFetch {
			return fmt.Errorf("fetch: %d bytes of hashes, want 1 to %d hashes of 32 bytes", len(md.Hashes), MaxFetch)
		}
	case OpPage:
		if len(md.After) != 0 && len(md.After) != 32 {
			return fmt.Errorf("page: cursor of %d bytes, want 32", len(md.After))
		}
	default:
		return fmt.Errorf("field \"op\": %q, want %q, %q or %q", shorten(md.Op), OpSketch, OpFetch, OpPage)
	}
	return nil
}

// parseResponseMetadata decodes and checks response metadata.
func parseResponseMetadata(raw json.RawMessage) (*ResponseMetadata, error) {
	if meta.IsNull(raw) {
		return nil, fmt.Errorf("reconcile: response metadata: missing")
	}
	var md ResponseMetadata
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, fmt.Errorf("reconcile: response metadata: %w", err)
	}
	if err := md.check(); err != nil {
		return nil, fmt.Errorf("reconcile: response metadata: %w", err)
	}
	return &md, nil
}

func (md *ResponseMetadata) check() error {
	switch md.Op {
	case OpSketch:
		n := len(md.Symbols) / riblt.SymbolSize
		switch {
		case len(md.Symbols)%riblt.SymbolSize != 0:
			return fmt.Errorf("sketch: %d bytes of symbols, not a multiple of %d", len(md.Symbols), riblt.SymbolSize)
		case n > MaxSymbolsPerResponse:
			return fmt.Errorf("sketch: %d symbols, more than %d", n, MaxSymbolsPerResponse)
		case md.From < 0 || md.From > MaxSymbols-n: // From+n could wrap
			return fmt.Errorf("sketch: %d symbols from %d, past symbol %d", n, md.From, MaxSymbols)
		case md.Total < 0:
			return fmt.Errorf("sketch: total %d", md.Total)
		case md.Same && (n != 0 || len(md.Digest) != 0 || md.From != 0 || md.Total == 0):
			return fmt.Errorf("sketch: \"same\" with %d symbols from %d, a digest of %d bytes and total %d, want none, none and a total", n, md.From, len(md.Digest), md.Total)
		case md.From == 0 && !md.Same && len(md.Digest) != riblt.DigestSize:
			return fmt.Errorf("sketch: digest of %d bytes, want %d", len(md.Digest), riblt.DigestSize)
		case md.From != 0 && len(md.Digest) != 0:
			return fmt.Errorf("sketch: digest with symbols from %d", md.From)
		}
	case OpFetch:
	case OpPage:
		if len(md.Next) != 0 && len(md.Next) != 32 {
			return fmt.Errorf("page: cursor of %d bytes, want 32", len(md.Next))
		}
	case OpList:
		switch {
		case len(md.Hashes)%32 != 0 || len(md.Hashes) > 32*MaxListPerResponse:
			return fmt.Errorf("list: %d bytes of hashes, want up to %d hashes of 32 bytes", len(md.Hashes), MaxListPerResponse)
		case md.Total < 0:
			return fmt.Errorf("list: total %d", md.Total)
		}
		if len(md.Positions) > 0 {
			n := len(md.Hashes) / 32
			got, err := parsePositions(md.Positions, n, md.Total)
			if err != nil {
				return fmt.Errorf("list: %w", err)
			}
			if len(got) != n {
				return fmt.Errorf("list: %d positions of %d hashes", len(got), n)
			}
			md.listed = got
		}
	default:
		return fmt.Errorf("field \"op\": %q, want %q, %q, %q or %q", shorten(md.Op), OpSketch, OpFetch, OpPage, OpList)
	}
	return nil
}

// shorten cuts a peer's string for an error message.
func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
