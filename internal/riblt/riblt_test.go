package riblt

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomItems returns n distinct random items.
func randomItems(r *rand.Rand, n int) []Item {
	out := make([]Item, n)
	for i := range out {
		for j := 0; j < 32; j += 8 {
			v := r.Uint64()
			for k := 0; k < 8; k++ {
				out[i][j+k] = byte(v >> (8 * k))
			}
		}
	}
	return out
}

// wire sends symbols through their wire form, as a requester gets them.
func wire(t testing.TB, syms []Symbol) []Symbol {
	t.Helper()
	got, err := ParseSymbols(AppendSymbols(nil, syms))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// reconcile decodes local against remote, asking for batch more symbols
// at a time, and returns the symbols it took.
func reconcile(t testing.TB, local, remote []Item, batch int) (*Decoder, int) {
	t.Helper()
	enc := NewEncoder(remote)
	dec := NewDecoder(NewEncoder(local), 0)
	for !dec.Done() {
		from := dec.Received()
		if from > 8*(len(local)+len(remote))+64 {
			t.Fatalf("no decoding after %d symbols (|local| %d, |remote| %d)", from, len(local), len(remote))
		}
		if err := dec.Add(wire(t, enc.Symbols(from, from+batch))); err != nil {
			t.Fatal(err)
		}
	}
	return dec, dec.Received()
}

func sortItems(xs []Item) []Item {
	xs = slices.Clone(xs)
	slices.SortFunc(xs, func(a, b Item) int { return bytes.Compare(a[:], b[:]) })
	return xs
}

func sameItems(t testing.TB, what string, got, want []Item) {
	t.Helper()
	got, want = sortItems(got), sortItems(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %d items, want %d (or different ones)", what, len(got), len(want))
	}
}

// TestReconcileRandomSets decodes random pairs of sets whose differences
// run from none to all of either side, in both directions at once.
func TestReconcileRandomSets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 10, 100, 1000}
	if testing.Short() {
		sizes = sizes[:5]
	}
	for _, n := range sizes {
		for _, frac := range []float64{0, 0.01, 0.1, 0.5, 1} {
			for _, dir := range []string{"remote", "local", "both"} {
				common := randomItems(r, n)
				d := int(frac * float64(n))
				extra := randomItems(r, 2*d)
				var local, remote, wantRemote, wantLocal []Item
				switch dir {
				case "remote":
					remote, wantRemote = append(slices.Clone(common), extra[:d]...), extra[:d]
					local = common
				case "local":
					local, wantLocal = append(slices.Clone(common), extra[:d]...), extra[:d]
					remote = common
				case "both":
					remote, wantRemote = append(slices.Clone(common), extra[:d]...), extra[:d]
					local, wantLocal = append(slices.Clone(common), extra[d:]...), extra[d:]
				}
				// d = n on one side means the other side holds nothing.
				if frac == 1 && dir != "both" {
					if dir == "remote" {
						local, wantRemote = nil, remote
					} else {
						remote, wantLocal = nil, local
					}
				}
				batches := []int{1, 7, 64}
				if n >= 1000 {
					batches = batches[1:] // one symbol at a time is slow at this size
				}
				for _, batch := range batches {
					dec, _ := reconcile(t, local, remote, batch)
					sameItems(t, "remote only", dec.RemoteOnly(), wantRemote)
					sameItems(t, "local only", dec.LocalOnly(), wantLocal)
				}
			}
		}
	}
}

// TestOverhead measures the symbols a difference takes (reported with -v)
// and bounds them loosely, so that a broken mapping shows.
func TestOverhead(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	common := randomItems(r, 2000)
	for _, d := range []int{1, 10, 100, 1000} {
		total, runs := 0, 10
		if d == 1000 {
			runs = 3
		}
		for run := 0; run < runs; run++ {
			extra := randomItems(r, d)
			_, used := reconcile(t, common, append(slices.Clone(common), extra...), max(1, d/100))
			total += used
		}
		per := float64(total) / float64(runs*d)
		t.Logf("d=%d: %.2f symbols per difference", d, per)
		if d >= 100 && per > 1.9 {
			t.Errorf("d=%d: %.2f symbols per difference, want about 1.4", d, per)
		}
	}
}

func TestEncoderMatchesIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	xs := randomItems(r, 500)
	ix := NewIndex(256)
	for i := range xs {
		l := LanesOf(&xs[i])
		ix.Add(&xs[i], &l)
	}
	// Remove a few and add them back in another order: nothing changes.
	for i := 0; i < 50; i++ {
		l := LanesOf(&xs[i])
		ix.Remove(&xs[i], &l)
	}
	for i := 49; i >= 0; i-- {
		l := LanesOf(&xs[i])
		ix.Add(&xs[i], &l)
	}
	want := Encode(xs, 0, 256)
	if got := ix.AppendPrefix(nil, 1000); !slices.Equal(got, want) {
		t.Fatal("index symbols differ from the encoder's")
	}
	var d Digest
	for i := range xs {
		d.AddItem(&xs[i])
	}
	if got := ix.Digest(); got != d {
		t.Fatal("index digest differs")
	}
	// Merging two halves gives the whole.
	a, b := NewIndex(256), NewIndex(256)
	for i := range xs {
		l := LanesOf(&xs[i])
		if i%2 == 0 {
			a.Add(&xs[i], &l)
		} else {
			b.Add(&xs[i], &l)
		}
	}
	a.Merge(b)
	if !slices.Equal(a.AppendPrefix(nil, 256), want) || a.Digest() != d {
		t.Fatal("merged halves differ from the whole")
	}
}

func TestDigest(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	xs := randomItems(r, 100)
	var a, b Digest
	for i := range xs {
		a.AddItem(&xs[i])
	}
	for i := len(xs) - 1; i >= 0; i-- {
		b.AddItem(&xs[i])
	}
	if a != b {
		t.Fatal("same set, different digests")
	}
	got, err := ParseDigest(AppendDigest(nil, &a), a.Count())
	if err != nil || got != a {
		t.Fatalf("digest does not round-trip: %v", err)
	}
	b.RemoveItem(&xs[3])
	if a == b {
		t.Fatal("different sets, same digest")
	}
	b.AddItem(&xs[3])
	extra := randomItems(r, 1)
	b.AddItem(&extra[0])
	b.RemoveItem(&xs[7])
	if a == b {
		t.Fatal("swapped item, same digest")
	}
	if a.Count() != b.Count() {
		t.Fatal("counts differ for sets of one size")
	}
	bad := AppendDigest(nil, &a)
	for i := 0; i < 8; i++ {
		bad[i] = 0xff
	}
	if _, err := ParseDigest(bad, 1); err == nil {
		t.Fatal("parsed a lane past the prime")
	}
}

func TestIsqrt(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, v := range []uint64{0, 1, 2, 3, 4, 1<<64 - 1, 1 << 62, (1<<32 - 1) * (1<<32 - 1)} {
		checkIsqrt(t, v)
	}
	for i := 0; i < 100000; i++ {
		checkIsqrt(t, r.Uint64())
	}
}

func checkIsqrt(t *testing.T, v uint64) {
	s := isqrt(v)
	if s > 0xffffffff || s*s > v || (s < 0xffffffff && (s+1)*(s+1) <= v) {
		t.Fatalf("isqrt(%d) = %d", v, s)
	}
}

// TestMappingDensity checks that index i is hit about 1/(1+i/2) of the
// time, and that the mapping is the same on every run (a change would
// break interoperability).
func TestMappingDensity(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	xs := randomItems(r, 20000)
	hits := make([]int, 64)
	for i := range xs {
		for m := newMapping(&xs[i]); m.next < 64; m.advance() {
			hits[m.next]++
		}
	}
	for _, i := range []int{0, 1, 2, 10, 30, 63} {
		want := float64(len(xs)) / (1 + float64(i)/2)
		if got := float64(hits[i]); got < 0.9*want || got > 1.1*want {
			t.Errorf("index %d: hit %v times, want about %v", i, got, want)
		}
	}
	var x Item
	m := newMapping(&x)
	var got []uint64
	for ; m.next < 1000; m.advance() {
		got = append(got, m.next)
	}
	t.Logf("indices of the zero item: %v", got)
}

func TestParseSymbolsRejectsPartial(t *testing.T) {
	if _, err := ParseSymbols(make([]byte, SymbolSize+1)); err == nil {
		t.Fatal("parsed a partial symbol")
	}
}

// TestDecoderLimit stops at the difference limit.
func TestDecoderLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	remote := randomItems(r, 100)
	enc := NewEncoder(remote)
	dec := NewDecoder(NewEncoder(nil), 10)
	var err error
	for i := 0; i < 400 && err == nil; i += 50 {
		err = dec.Add(enc.Symbols(i, i+50))
	}
	if err == nil {
		t.Fatal("decoded 100 differences with a limit of 10")
	}
}

func TestSources(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	a, b := randomItems(r, 300), randomItems(r, 20)
	want := Encode(append(slices.Clone(a), b...), 0, 100)
	pre := Encode(a, 0, 40)
	src := Union(Prefixed(pre, func() *Encoder { return NewEncoder(a) }), NewEncoder(b))
	if got := src.Symbols(0, 30); !slices.Equal(got, want[:30]) {
		t.Fatal("union of a prefix differs")
	}
	if got := src.Symbols(30, 100); !slices.Equal(got, want[30:]) {
		t.Fatal("union past the prefix differs")
	}
	gone := Prefixed(pre, func() *Encoder { return nil })
	if got := gone.Symbols(30, 100); len(got) == 70 {
		t.Fatal("a prefix without the rest gave symbols past it")
	}
}
