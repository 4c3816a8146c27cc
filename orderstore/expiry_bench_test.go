package orderstore

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkExpiryScan measures leaving expired orders out of a scan of
// 100 000 stored orders, as reconcile's set does: Expired per order reads
// the clock per order; a cutoff read once per batch of 1 000 does not.
// Compare CPU seconds (time(1)) too: ns/op is wall time.
func BenchmarkExpiryScan(b *testing.B) {
	const size, batch = 100_000, 1000
	m := NewMemory()
	mustAdd(b, m, testOrders(0, size))
	rule := Expiry{}
	scan := func(b *testing.B, perBatch bool) {
		kept := 0
		for b.Loop() {
			var after common.Hash
			for {
				orders, err := m.OrdersAfter(context.Background(), after, batch)
				if err != nil {
					b.Fatal(err)
				}
				cutoff := rule.Cutoff()
				for _, o := range orders {
					if perBatch && ExpirationOf(o) > cutoff || !perBatch && !rule.Expired(o) {
						kept++
					}
				}
				if len(orders) < batch {
					break
				}
				after = mustHash(b, orders[len(orders)-1])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/order")
		_ = kept
	}
	b.Run("clock-per-order", func(b *testing.B) { scan(b, false) })
	b.Run("cutoff-per-batch", func(b *testing.B) { scan(b, true) })
}
