package ordergen

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ordersync/ordersync/zeroex"
)

func hashes(t *testing.T, orders []*zeroex.SignedOrder) []common.Hash {
	t.Helper()
	hs := make([]common.Hash, len(orders))
	for i, o := range orders {
		h, err := o.ComputeOrderHash()
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	return hs
}

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	opts := Options{Seed: 7, Count: 300, Makers: 3}
	a, b := Generate(opts), Generate(opts)
	if len(a) != 300 {
		t.Fatalf("%d orders, want 300", len(a))
	}
	makers := map[common.Address]bool{}
	seen := map[common.Hash]bool{}
	ha := hashes(t, a)
	for i, o := range a {
		if !o.Equal(b[i]) {
			t.Fatalf("order %d differs between two calls", i)
		}
		if seen[ha[i]] {
			t.Fatalf("order %d: duplicate hash", i)
		}
		seen[ha[i]] = true
		makers[o.MakerAddress] = true
		if o.ChainID.Int64() != DefaultChainID || o.ExchangeAddress != DefaultExchange {
			t.Fatalf("order %d: chain %s exchange %s", i, o.ChainID, o.ExchangeAddress.Hex())
		}
		if len(o.MakerAssetData) != 36 || !bytes.HasPrefix(o.MakerAssetData, []byte{0xf4, 0x72, 0x61, 0xb0}) ||
			bytes.Equal(o.MakerAssetData, o.TakerAssetData) {
			t.Fatalf("order %d: asset data %x / %x", i, o.MakerAssetData, o.TakerAssetData)
		}
		if o.MakerFee.Sign() != 0 || o.TakerFee.Sign() != 0 || o.MakerAssetAmount.Sign() <= 0 || o.TakerAssetAmount.Sign() <= 0 {
			t.Fatalf("order %d: amounts %s %s fees %s %s", i, o.MakerAssetAmount, o.TakerAssetAmount, o.MakerFee, o.TakerFee)
		}
		if o.ExpirationTimeSeconds.Cmp(big.NewInt(DefaultExpirationTimeSeconds)) < 0 {
			t.Fatalf("order %d: expires at %s", i, o.ExpirationTimeSeconds)
		}
		if zeroex.SignatureType(o.Signature[len(o.Signature)-1]) != zeroex.SignatureTypeEthSign {
			t.Fatalf("order %d: signature type %d", i, o.Signature[len(o.Signature)-1])
		}
	}
	if len(makers) != 3 {
		t.Fatalf("%d distinct makers, want 3", len(makers))
	}
	for i, err := range zeroex.VerifySignatures(a) {
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	// Another seed gives other orders and other makers.
	c := Generate(Options{Seed: 8, Count: 1, Makers: 1})
	if c[0].Equal(a[0]) || makers[c[0].MakerAddress] {
		t.Fatal("seed 8 repeats seed 7")
	}
}

func TestGenerateOptions(t *testing.T) {
	exchange := common.HexToAddress("0x61935cbdd02287b511119ddb11aeb42f1593b7ef")
	orders := Generate(Options{Seed: 1, Count: 5, ChainID: 1, Exchange: exchange, SignatureType: zeroex.SignatureTypeEIP712, ExpirationTimeSeconds: 2e9})
	for i, o := range orders {
		if o.ChainID.Int64() != 1 || o.ExchangeAddress != exchange || o.Signature[65] != byte(zeroex.SignatureTypeEIP712) {
			t.Fatalf("order %d ignores options: chain %s exchange %s sig %x", i, o.ChainID, o.ExchangeAddress.Hex(), o.Signature)
		}
		if e := o.ExpirationTimeSeconds.Int64(); e < 2e9 || e > 2e9+30*24*3600 {
			t.Fatalf("order %d: expiration %d", i, e)
		}
		if err := o.VerifySignature(); err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	if got := Generate(Options{Count: -1}); len(got) != 0 {
		t.Fatalf("negative count gave %d orders", len(got))
	}
}

func TestGenerateFirstContinuesTheStream(t *testing.T) {
	all := Generate(Options{Seed: 3, Count: 100})
	tail := Generate(Options{Seed: 3, First: 60, Count: 40})
	for i, o := range tail {
		if !o.Equal(all[60+i]) {
			t.Fatalf("order %d of First=60 differs from order %d", i, 60+i)
		}
	}
}

func TestOverlapping(t *testing.T) {
	a, b := Overlapping(Options{Seed: 5}, 200, 50)
	if len(a) != 200 || len(b) != 200 {
		t.Fatalf("sizes %d, %d", len(a), len(b))
	}
	inA := map[common.Hash]bool{}
	for _, h := range hashes(t, a) {
		inA[h] = true
	}
	shared := 0
	for _, h := range hashes(t, b) {
		if inA[h] {
			shared++
		}
	}
	if shared != 50 {
		t.Fatalf("%d shared orders, want 50", shared)
	}
	for i, err := range zeroex.VerifySignatures(b) {
		if err != nil {
			t.Fatalf("b[%d]: %v", i, err)
		}
	}
}

func TestMakerKey(t *testing.T) {
	if MakerAddress(1, 0) == MakerAddress(1, 1) || MakerAddress(1, 0) == MakerAddress(2, 0) {
		t.Fatal("maker keys repeat")
	}
	if MakerAddress(1, 0) != MakerAddress(1, 0) {
		t.Fatal("maker key is not deterministic")
	}
	// MakerKey signs extra orders that verify against the generated makers.
	o := Generate(Options{Seed: 9, Count: 1, Makers: 1})[0]
	extra, err := zeroex.SignOrder(MakerKey(9, 0), &o.Order)
	if err != nil {
		t.Fatal(err)
	}
	if err := extra.VerifySignature(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Generate(Options{Seed: int64(i), Count: 1000})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/order")
}

// BenchmarkGenerate50k is the demo's workload: run it with -benchtime=1x.
func BenchmarkGenerate50k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Generate(Options{Seed: int64(i), Count: 50_000})
	}
}

// Orders of a known chain are made for its Exchange unless told otherwise.
func TestExchangeFollowsTheChain(t *testing.T) {
	mainnet, err := zeroex.ExchangeAddress(1)
	if err != nil {
		t.Fatal(err)
	}
	if o := Generate(Options{Seed: 1, Count: 1, ChainID: 1})[0]; o.ChainID.Int64() != 1 || o.ExchangeAddress != mainnet {
		t.Errorf("chain 1: order of chain %s for %s, want %s", o.ChainID, o.ExchangeAddress.Hex(), mainnet.Hex())
	}
	if ganache, _ := zeroex.ExchangeAddress(DefaultChainID); DefaultExchange != ganache {
		t.Errorf("DefaultExchange %s, want chain %d's Exchange %s", DefaultExchange.Hex(), DefaultChainID, ganache.Hex())
	}
	other := common.HexToAddress("0x0000000000000000000000000000000000000042")
	if o := Generate(Options{Seed: 1, Count: 1, ChainID: 99, Exchange: other})[0]; o.ExchangeAddress != other {
		t.Errorf("chain 99: exchange %s, want %s", o.ExchangeAddress.Hex(), other.Hex())
	}
}
