package riblt

import (
	"crypto/sha256"
	"testing"
)

// BenchmarkIndexUpdate is what a store pays per order it adds or removes,
// besides the digest lanes it computes outside its lock: an Add and a
// Remove of one item of a set kept with the default symbols.
func BenchmarkIndexUpdate(b *testing.B) {
	items := make([]Item, 1024)
	lanes := make([]ItemLanes, len(items))
	for i := range items {
		items[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		lanes[i] = LanesOf(&items[i])
	}
	ix := NewIndex(DefaultIndexSymbols)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(items)
		ix.Add(&items[j], &lanes[j])
		ix.Remove(&items[j], &lanes[j])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/change")
}
