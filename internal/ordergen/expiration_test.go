package ordergen

import "testing"

// TestExactExpiration: with ExactExpiration every order expires at the
// time asked, and the rest of each order is that of the stream without it.
func TestExactExpiration(t *testing.T) {
	const at = 1_900_000_000
	exact := Generate(Options{Seed: 3, Count: 20, ExpirationTimeSeconds: at, ExactExpiration: true})
	spread := Generate(Options{Seed: 3, Count: 20, ExpirationTimeSeconds: at})
	for i, o := range exact {
		if got := o.ExpirationTimeSeconds.Int64(); got != at {
			t.Fatalf("order %d expires at %d, want %d", i, got, at)
		}
		if o.Salt.Cmp(spread[i].Salt) != 0 || o.MakerAssetAmount.Cmp(spread[i].MakerAssetAmount) != 0 {
			t.Fatalf("order %d differs from the stream's beyond its expiration", i)
		}
	}
}
