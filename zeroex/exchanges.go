package zeroex

import (
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// exchanges are the 0x v3 Exchange contracts of the chains the 0x Mesh
// network ran on. Order hashes and filters name the Exchange, so an order
// made for any other contract on these chains is not one the network
// accepts.
var exchanges = map[int]common.Address{
	1:    common.HexToAddress("0x61935cbdd02287b511119ddb11aeb42f1593b7ef"), // mainnet
	3:    common.HexToAddress("0xfb2dd2a1366de37f7241c83d47da58fd503e2c64"), // Ropsten
	4:    common.HexToAddress("0x198805e9682fceec29413059b68550f92868c129"), // Rinkeby
	42:   common.HexToAddress("0x4eacd0af335451709e1e7b570b8ea68edec8bc97"), // Kovan
	1337: common.HexToAddress("0x48bacb9266a570d521063ef5dd96e61686dbe788"), // 0x's Ganache snapshot
}

// ExchangeAddress returns the 0x v3 Exchange contract of chainID, for the
// chains the 0x Mesh network used: 1 (mainnet), 3 (Ropsten), 4 (Rinkeby),
// 42 (Kovan) and 1337 (0x's Ganache test snapshot). For any other chain
// the error is an *UnknownChainError: the caller must be told the
// exchange.
func ExchangeAddress(chainID int) (common.Address, error) {
	if a, ok := exchanges[chainID]; ok {
		return a, nil
	}
	return common.Address{}, &UnknownChainError{ChainID: chainID}
}

// KnownChains returns the chain IDs ExchangeAddress knows, ascending.
func KnownChains() []int {
	return slices.Sorted(func(yield func(int) bool) {
		for id := range exchanges {
			if !yield(id) {
				return
			}
		}
	})
}

// UnknownChainError is ExchangeAddress's error for a chain without a known
// 0x v3 Exchange.
type UnknownChainError struct {
	ChainID int
}

// Error implements error.
func (e *UnknownChainError) Error() string {
	return fmt.Sprintf("zeroex: chain %d has no known 0x v3 Exchange (known chains: %v); name the exchange address", e.ChainID, KnownChains())
}
