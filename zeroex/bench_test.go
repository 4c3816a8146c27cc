package zeroex

import (
	"math/rand"
	"testing"
)

// benchOrders returns n signed orders shaped like real ERC-20 orders.
func benchOrders(b *testing.B, n int) []*SignedOrder {
	b.Helper()
	r := rand.New(rand.NewSource(8))
	key := testKey(b, 4)
	orders := make([]*SignedOrder, n)
	for i := range orders {
		o := randomOrder(r)
		o.ChainID.SetInt64(1337)
		o.ExchangeAddress = testExchange
		o.MakerAssetData = append([]byte{0xf4, 0x72, 0x61, 0xb0}, make([]byte, 32)...)
		o.TakerAssetData = append([]byte{0xf4, 0x72, 0x61, 0xb0}, make([]byte, 32)...)
		o.MakerFeeAssetData, o.TakerFeeAssetData = nil, nil
		o.MakerFee.SetInt64(0)
		o.TakerFee.SetInt64(0)
		o.MakerAddress = addressOf(key)
		s, err := SignOrder(key, o)
		if err != nil {
			b.Fatal(err)
		}
		orders[i] = s
	}
	return orders
}

func perOrder(b *testing.B, ordersPerOp int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*ordersPerOp), "ns/order")
}

func BenchmarkComputeOrderHash(b *testing.B) {
	s := benchOrders(b, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		s.ResetHash()
		if _, err := s.ComputeOrderHash(); err != nil {
			b.Fatal(err)
		}
	}
	perOrder(b, 1)
}

func BenchmarkVerifySignature(b *testing.B) {
	s := benchOrders(b, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		s.ResetHash()
		if err := s.VerifySignature(); err != nil {
			b.Fatal(err)
		}
	}
	perOrder(b, 1)
}

func BenchmarkVerifySignatures(b *testing.B) {
	const batch = 500
	orders := benchOrders(b, batch)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, s := range orders {
			s.ResetHash()
		}
		b.StartTimer()
		for i, err := range VerifySignatures(orders) {
			if err != nil {
				b.Fatalf("order %d: %v", i, err)
			}
		}
	}
	perOrder(b, batch)
}

func BenchmarkMarshalJSON(b *testing.B) {
	s := benchOrders(b, 1)[0]
	buf := make([]byte, 0, 4096)
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.ResetHash()
			var err error
			if buf, err = s.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
		perOrder(b, 1)
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = s.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
		perOrder(b, 1)
	})
}

func BenchmarkUnmarshalJSON(b *testing.B) {
	enc, err := benchOrders(b, 1)[0].MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		var s SignedOrder
		if err := s.UnmarshalJSON(enc); err != nil {
			b.Fatal(err)
		}
	}
	perOrder(b, 1)
}
