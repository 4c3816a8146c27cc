package cli

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ordersync/ordersync/internal/ordergen"
	"github.com/ordersync/ordersync/orderstore"
	"github.com/ordersync/ordersync/zeroex"
)

func testOrders(t testing.TB, n int) []*zeroex.SignedOrder {
	t.Helper()
	return ordergen.Generate(ordergen.Options{Seed: 7, Count: n, Makers: 3})
}

func orderJSON(t testing.TB, o *zeroex.SignedOrder) string {
	t.Helper()
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func assertSameOrders(t *testing.T, got, want []*zeroex.SignedOrder) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d orders, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("order %d differs:\n got %s\nwant %s", i, orderJSON(t, got[i]), orderJSON(t, want[i]))
		}
	}
}

func TestOrderFileRoundTrip(t *testing.T) {
	want := testOrders(t, 25)
	path := filepath.Join(t.TempDir(), "orders.jsonl")
	n, err := WriteOrderFile(path, slices.Values(want))
	if err != nil || n != len(want) {
		t.Fatalf("writeOrderFile = %d, %v; want %d, nil", n, err, len(want))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(raw, []byte("\n")); lines != len(want) {
		t.Fatalf("file has %d lines, want one per order (%d)", lines, len(want))
	}
	got, err := ReadOrderFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameOrders(t, got, want)
}

func TestReadOrdersFormats(t *testing.T) {
	want := testOrders(t, 3)
	a, b, c := orderJSON(t, want[0]), orderJSON(t, want[1]), orderJSON(t, want[2])
	for _, tc := range []struct {
		name, input string
		want        []*zeroex.SignedOrder
	}{
		{"lines", a + "\n" + b + "\n" + c + "\n", want},
		{"lines without final newline", a + "\n" + b + "\n" + c, want},
		{"lines with blank lines and CRLF", "\r\n\n" + a + "\r\n\r\n  \n" + b + "\r\n" + c + "\r\n\n", want},
		{"byte-order mark", "\xef\xbb\xbf" + a + "\n", want[:1]},
		{"array", "[" + a + "," + b + "," + c + "]", want},
		{"indented array", "\n[\n  " + a + ",\n  " + b + " ,\n\t" + c + "\n]\n\n", want},
		{"empty array", " [ ] ", nil},
		{"empty input", "", nil},
		{"only white space", " \n\r\n\t", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadOrders(strings.NewReader(tc.input), "test")
			if err != nil {
				t.Fatal(err)
			}
			assertSameOrders(t, got, tc.want)
		})
	}
}

func TestReadOrdersErrors(t *testing.T) {
	orders := testOrders(t, 2)
	a, b := orderJSON(t, orders[0]), orderJSON(t, orders[1])
	badFee := strings.Replace(b, `"makerFee":"0"`, `"makerFee":"12a"`, 1)
	if badFee == b {
		t.Fatal("test order has no makerFee 0 to break")
	}
	long := `{"salt":"` + strings.Repeat("1", MaxOrderSize) + `"}`
	for _, tc := range []struct {
		name, input string
		want        []string // substrings of the error
	}{
		{"bad field on line 3", a + "\n\n" + badFee + "\n", []string{`orders.jsonl:3: zeroex: field "makerFee"`, "12a"}},
		{"bad field in array", "[\n" + a + ",\n\n" + badFee + "\n]", []string{`orders.jsonl:4: zeroex: field "makerFee"`}},
		{"not JSON", "hello\n", []string{"orders.jsonl:1:", "JSON lines", "JSON array"}},
		{"truncated line", a + "\n" + b[:100] + "\n", []string{"orders.jsonl:2: zeroex:"}},
		{"two orders on one line", a + " " + b + "\n", []string{"orders.jsonl:1: zeroex:"}},
		{"line too long", a + "\n" + long + "\n", []string{"orders.jsonl:2:", "longer than"}},
		{"array element too long", "[" + long + "]", []string{"orders.jsonl:1:", "longer than"}},
		{"array element not an object", "[" + a + ", 5]", []string{"orders.jsonl:1:", "array element 1", "JSON object"}},
		{"unterminated array", "[" + a + ",\n", []string{"orders.jsonl:2:", "unterminated"}},
		{"unterminated object", "[" + a[:50], []string{"orders.jsonl:1:", "unterminated"}},
		{"missing comma", "[" + a + "\n" + b + "]", []string{"orders.jsonl:2:", "after array element 0"}},
		// The scanner must find the object's end despite the brackets in a
		// string; then zeroex rejects the unknown field.
		{"brackets in a string", "[" + strings.Replace(a, "{", `{"x":"}{[\"",`, 1) + "]", []string{"orders.jsonl:1: zeroex:", `"x"`}},
		{"data after array", "[" + a + "]\n" + b, []string{"orders.jsonl:2:", "after the JSON array"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadOrders(strings.NewReader(tc.input), "orders.jsonl")
			if err == nil {
				t.Fatalf("read %d orders, want an error", len(got))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestReadOrderFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.jsonl")
	_, err := ReadOrderFile(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want a not-exist error naming %s", err, path)
	}
}

func TestScanOrdersStopsOnCallbackError(t *testing.T) {
	orders := testOrders(t, 3)
	var input strings.Builder
	for _, o := range orders {
		input.WriteString(orderJSON(t, o) + "\n")
	}
	stop := errors.New("stop")
	calls := 0
	err := ScanOrders(strings.NewReader(input.String()), "test", func(*zeroex.SignedOrder) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("got %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestVerifyOrdersCountsReasons(t *testing.T) {
	orders := testOrders(t, 40)
	// Order 3: signed by another key. Order 7: a cut signature.
	other := ordergen.Generate(ordergen.Options{Seed: 8, Count: 1})[0]
	wrong := *orders[3]
	wrong.Signature = other.Signature
	wrong.ResetHash()
	orders[3] = &wrong
	short := *orders[7]
	short.Signature = append(slices.Clone(short.Signature[:10]), short.Signature[len(short.Signature)-1]) // keep the type byte
	short.ResetHash()
	orders[7] = &short

	valid, dropped, firstBad := VerifyOrders(orders)
	if len(valid) != 38 {
		t.Fatalf("%d valid, want 38", len(valid))
	}
	if slices.Contains(valid, orders[3]) || slices.Contains(valid, orders[7]) {
		t.Fatal("a bad order was kept")
	}
	if dropped.Total() != 2 || dropped["bad signature length"] != 1 || dropped["wrong signer"]+dropped["malformed signature"] != 1 {
		t.Fatalf("dropped = %v", dropped)
	}
	if firstBad == nil || !strings.Contains(firstBad.Error(), "order 3") {
		t.Fatalf("firstBad = %v, want order 3's error", firstBad)
	}
}

// TestOrderWriterMatchesMarshalJSON checks that the writer, which encodes
// without zeroex's cache, writes each order exactly as MarshalJSON does.
func TestOrderWriterMatchesMarshalJSON(t *testing.T) {
	orders := testOrders(t, 20)
	var lines bytes.Buffer
	n, err := WriteOrders(&lines, slices.Values(orders))
	if err != nil || n != len(orders) {
		t.Fatalf("wrote %d orders, %v", n, err)
	}
	var want bytes.Buffer
	for _, o := range orders {
		enc, err := o.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want.Write(enc)
		want.WriteByte('\n')
	}
	if !bytes.Equal(lines.Bytes(), want.Bytes()) {
		t.Errorf("writer and MarshalJSON differ:\n%s\nwant\n%s", lines.Bytes(), want.Bytes())
	}
}

// TestOrderWriterAllocatesNothingPerOrder holds the writer to one reused
// buffer: a sync writes all it holds at the end, and a kilobyte of garbage
// (or a cached encoding) per order would double its peak memory.
func TestOrderWriterAllocatesNothingPerOrder(t *testing.T) {
	orders := testOrders(t, 2)
	ow := NewOrderWriter(io.Discard)
	if err := ow.Write(orders[0]); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := ow.Write(orders[1]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per order written, want 0", allocs)
	}
}

// BenchmarkReadOrders measures the order-file loader (scan and decode, no
// signature check) per order, on JSON lines and on an array.
func BenchmarkReadOrders(b *testing.B) {
	orders := testOrders(b, 5000)
	var lines bytes.Buffer
	if _, err := WriteOrders(&lines, slices.Values(orders)); err != nil {
		b.Fatal(err)
	}
	array := append([]byte{'['}, bytes.ReplaceAll(bytes.TrimSpace(lines.Bytes()), []byte("\n"), []byte(",\n"))...)
	array = append(array, ']')
	for _, input := range []struct {
		name string
		data []byte
	}{{"lines", lines.Bytes()}, {"array", array}} {
		b.Run(input.name, func(b *testing.B) {
			b.SetBytes(int64(len(input.data)))
			for b.Loop() {
				got, err := ReadOrders(bytes.NewReader(input.data), "bench")
				if err != nil || len(got) != len(orders) {
					b.Fatalf("read %d orders, %v", len(got), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(orders)), "ns/order")
		})
	}
}

// BenchmarkWriteOrders measures the JSON-lines writer per order, encoding
// included (fresh orders, so nothing is cached).
func BenchmarkWriteOrders(b *testing.B) {
	orders := testOrders(b, 5000)
	for b.Loop() {
		b.StopTimer()
		for _, o := range orders {
			o.ResetHash()
		}
		b.StartTimer()
		if _, err := WriteOrders(io.Discard, slices.Values(orders)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(orders)), "ns/order")
}

func TestLoadOrdersIntoReports(t *testing.T) {
	orders := testOrders(t, 10)
	bad := *orders[4]
	bad.Signature = slices.Clone(bad.Signature)
	bad.Signature[len(bad.Signature)-1] = 4 // wallet: needs a chain
	bad.ResetHash()
	file := slices.Concat(orders, orders[:3], []*zeroex.SignedOrder{&bad})
	path := filepath.Join(t.TempDir(), "orders.jsonl")
	if _, err := WriteOrderFile(path, slices.Values(file)); err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	log, _ := NewLogger("error", io.Discard)
	store := orderstore.NewMemory()
	if err := LoadOrdersInto(t.Context(), store, "serve", path, &report, log); err != nil {
		t.Fatal(err)
	}
	if store.Len() != 10 {
		t.Errorf("store holds %d orders, want the 10 distinct valid ones", store.Len())
	}
	want := path + ": 14 orders, 13 verified, 1 rejected (unverifiable signature type 1), 3 duplicates"
	if !strings.Contains(report.String(), want) {
		t.Errorf("report %q does not say %q", report.String(), want)
	}
}
