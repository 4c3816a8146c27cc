package zeroex

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestComputeOrderHashPublicVector(t *testing.T) {
	want := common.HexToHash("0xcb36e4fedb36508fb707e2c05e21bffc7a72766ccae93f8ff096693fff7f1714")
	o := vectorOrder()
	got, err := o.ComputeOrderHash()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("hash %s, want %s", got.Hex(), want.Hex())
	}
	// Cached: same answer, and a changed field shows only after ResetHash.
	o.Salt = big.NewInt(1)
	if again, _ := o.ComputeOrderHash(); again != want {
		t.Fatalf("cached hash %s, want %s", again.Hex(), want.Hex())
	}
	o.ResetHash()
	if changed, _ := o.ComputeOrderHash(); changed == want {
		t.Fatal("hash did not change after ResetHash and a new salt")
	}
}
