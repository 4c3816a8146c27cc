package zeroex

import (
	"math/big"
	"math/rand"
	"testing"
)

func TestAppendUint256MatchesBigInt(t *testing.T) {
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	cases := []*big.Int{new(big.Int), big.NewInt(1), max,
		new(big.Int).Lsh(big.NewInt(1), 64), new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil),
		new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil), new(big.Int).Exp(big.NewInt(10), big.NewInt(77), nil)}
	r := rand.New(rand.NewSource(9))
	for i := 0; i < 1000; i++ {
		cases = append(cases, randomUint256(r))
	}
	for _, n := range cases {
		if got, want := string(appendUint256([]byte("x"), n)), "x"+n.String(); got != want {
			t.Fatalf("appendUint256(%s) = %s", want[1:], got[1:])
		}
	}
}
