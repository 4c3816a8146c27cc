package zeroex

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExchangeAddress(t *testing.T) {
	for chain, want := range map[int]string{
		1:    "0x61935cbdd02287b511119ddb11aeb42f1593b7ef",
		3:    "0xfb2dd2a1366de37f7241c83d47da58fd503e2c64",
		4:    "0x198805e9682fceec29413059b68550f92868c129",
		42:   "0x4eacd0af335451709e1e7b570b8ea68edec8bc97",
		1337: "0x48bacb9266a570d521063ef5dd96e61686dbe788",
	} {
		got, err := ExchangeAddress(chain)
		if err != nil || strings.ToLower(got.Hex()) != want {
			t.Errorf("chain %d: %s, %v; want %s", chain, got.Hex(), err, want)
		}
	}
	// The hash vector's address is the 1337 snapshot's ERC20 proxy.
	if got, _ := ExchangeAddress(1337); got == testExchange {
		t.Error("chain 1337's Exchange is the ERC20 proxy of the hash vector")
	}
	if !slices.Equal(KnownChains(), []int{1, 3, 4, 42, 1337}) {
		t.Errorf("KnownChains %v", KnownChains())
	}
	_, err := ExchangeAddress(5)
	var unknown *UnknownChainError
	if !errors.As(err, &unknown) || unknown.ChainID != 5 || !strings.Contains(err.Error(), "chain 5") {
		t.Errorf("chain 5: err %v, want an UnknownChainError naming it", err)
	}
}
